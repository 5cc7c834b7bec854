// APPSYNC_JS handlers (Amplify's a.handler.custom) on the local GraphQL endpoint, run as AppSync runs them.
//
// The simulator runs VTL only: each resolver and pipeline function asks it for a request and a
// response "mapping template" and calls its render(). A JS handler is one module exporting
// request(ctx) and response(ctx); here each becomes a pair of templates whose render() calls the
// module, so the simulator's resolvers, pipelines, data sources and subscriptions run it unchanged:
// - the module (an ES module importing only @aws-appsync/utils) is turned into a script with esbuild
//   once; each call runs it afresh in a context of its own, with the ECMAScript globals and `console`
//   only, as AppSync has, stopped after 5 s; a handler that returns a Promise (async) is refused;
// - `@aws-appsync/utils` gives util (the simulator's VTL utilities where they agree, AppSync's JS
//   behaviour where they do not), runtime.earlyReturn and extensions.setSubscriptionFilter;
//   `@aws-appsync/utils/dynamodb` builds the same DynamoDB requests AppSync's does;
// - a request's result goes to the data source as a VTL template's would, with errors handed to the
//   response handler as ctx.error (AppSync's 2018-05-29 behaviour, the only one JS handlers have);
// - an exception in the handler fails the field with errorType "Code" and the file, line and message;
// - a JS pipeline follows AppSync's runtime.earlyReturn: from its own request handler, on to its
//   response handler; with `{ skipTo: 'END' }` from a function, past the functions after it.

import { SourceMap } from 'node:module';
import vm from 'node:vm';
import { plain, setSubscriptionFilter, subscriptionFilter } from './realtime.mjs';

const UTILS = '@aws-appsync/utils';
const DYNAMODB = '@aws-appsync/utils/dynamodb';

const HANDLER_TIMEOUT_MS = 5000;
const CALL = new vm.Script('__ampflowCall()', { filename: 'appsync-js-runtime' });
// Fields whose pipeline a function ended with runtime.earlyReturn(value, { skipTo: 'END' }), by their resolve info.
const skippedToEnd = new WeakSet();

/**
 * Serve `modules` (content hash → {file, source}) as mapping templates named `<hash>#request` and
 * `<hash>#response` on `simulator`, which must happen before simulator.init. `require` loads from the
 * simulator's install.
 */
export function serveJavascriptHandlers({ simulator, require, modules }) {
  if (Object.keys(modules).length === 0) return;
  const lib = (path) => require(`@aws-amplify/amplify-appsync-simulator/lib/${path}`);
  const runtime = new Runtime(lib, require('esbuild'));
  const templates = new Map();
  for (const [digest, { file, source }] of Object.entries(modules)) {
    const module = runtime.load(file, source);
    templates.set(`${digest}#request`, new HandlerTemplate(runtime, module, 'request', simulator));
    templates.set(`${digest}#response`, new HandlerTemplate(runtime, module, 'response', simulator));
  }
  const getMappingTemplate = simulator.getMappingTemplate.bind(simulator);
  simulator.getMappingTemplate = (path) => templates.get(path) ?? getMappingTemplate(path);
  runJavascriptPipelinesAsAppSync(lib, (config) => templates.has(config.requestMappingTemplateLocation));
}

/**
 * A JS pipeline resolver runs as AppSync's: runtime.earlyReturn in its own request handler skips the
 * functions but not its response handler, and `skipTo: 'END'` in a function skips the functions after
 * it. The simulator returns at once in the first case and knows nothing of the second. VTL pipelines
 * run as before.
 */
function runJavascriptPipelinesAsAppSync(lib, isJavascript) {
  const { AppSyncPipelineResolver } = lib('resolvers/pipeline-resolver');
  if (AppSyncPipelineResolver.prototype.ampflowJavascript) return;
  const resolve = AppSyncPipelineResolver.prototype.resolve;
  AppSyncPipelineResolver.prototype.resolve = async function (source, args, context, info) {
    if (!isJavascript(this.config)) return resolve.call(this, source, args, context, info);
    const before = this.getRequestMappingTemplate().render({ source, arguments: args, stash: {} }, context, info);
    context.appsyncErrors = [...context.appsyncErrors, ...(before.errors ?? [])];
    if (before.hadException) return before.result;
    let { stash, args: current, result: previous } = before;
    if (!before.isReturn) {
      for (const name of this.config.functions) {
        let hadException;
        ({ result: previous, stash, hadException, args: current } =
          await this.simulatorContext.getFunction(name).resolve(source, current, stash, previous, context, info));
        if (hadException) return previous;
        if (skippedToEnd.delete(info)) break;
      }
    }
    const after = this.getResponseMappingTemplate().render({ source, arguments: current, result: previous, prevResult: previous, stash }, context, info);
    context.appsyncErrors = [...context.appsyncErrors, ...(after.errors ?? [])];
    return after.result;
  };
  AppSyncPipelineResolver.prototype.ampflowJavascript = true;
}

class EarlyReturn {
  constructor(value, options) {
    this.value = value;
    this.skipToEnd = options?.skipTo === 'END';
  }
}

class Runtime {
  constructor(lib, esbuild) {
    this.esbuild = esbuild;
    const { create, TemplateSentError, Unauthorized } = lib('velocity/util');
    const { VelocityTemplate } = lib('velocity');
    const { generateFilterExpression } = lib('velocity/util/transform/dynamodb-filter');
    Object.assign(this, { create, TemplateSentError, Unauthorized, VelocityTemplate });
    this.expression = (object, prefix = '') => dynamodbExpression(generateFilterExpression, object, prefix);
  }

  /**
   * A handler module compiled once into its own context; each call runs its body afresh there (see
   * HandlerTemplate), or fails with why it cannot.
   */
  load(file, source) {
    try {
      const compiled = this.esbuild.transformSync(source, { format: 'cjs', loader: file.endsWith('.ts') ? 'ts' : 'js', sourcefile: file, sourcemap: 'external', target: 'es2022' });
      const context = vm.createContext({ console: handlerConsole(file) });
      const body = new vm.Script(`(function (exports, require, module) {${compiled.code}\n})`, { filename: file }).runInContext(context);
      return { file, context, body, parse: vm.runInContext('JSON.parse', context), sourceMap: new SourceMap(JSON.parse(compiled.map)) };
    } catch (error) {
      const first = error.errors?.[0];
      const where = first?.location ? `${file}:${first.location.line}:${first.location.column}` : file;
      return { file, problem: `${where}: SyntaxError: ${first?.text ?? error.message}` };
    }
  }

  /** What `@aws-appsync/utils` and `@aws-appsync/utils/dynamodb` give one invocation. */
  imports(invocation) {
    const util = this.util(invocation);
    const extensions = {
      setSubscriptionFilter: (filter) => setSubscriptionFilter(invocation.requestContext, filter),
      setSubscriptionInvalidationFilter: () => {},
      invalidateSubscriptions: () => {},
      evictFromApiCache: () => {},
    };
    const runtime = { earlyReturn: (value, options) => { throw new EarlyReturn(value, options); } };
    return { [UTILS]: { util, extensions, runtime }, [DYNAMODB]: dynamodbHelpers(util, this.expression) };
  }

  /** The util object of one invocation: the simulator's VTL utilities, with AppSync's JS behaviour where it differs. */
  util(invocation) {
    const vtl = this.create(invocation.errors, new Date(), invocation.info, invocation.requestContext);
    const { expression } = this;
    const isNullOrEmpty = (value) => value === null || value === undefined || value === '' ||
      (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
    const bound = Object.fromEntries(Object.entries(vtl).map(([name, value]) => [name, typeof value === 'function' ? value.bind(vtl) : value]));
    return {
      ...bound,
      error: (message, type = null, data = null, errorInfo = null) => vtl.error(message, type, data, errorInfo),
      appendError: (message, type = null, data = null, errorInfo = null) => {
        vtl.appendError(message, type, data, errorInfo);
      },
      unauthorized: () => vtl.unauthorized(),
      isNullOrEmpty,
      isNullOrBlank: (value) => isNullOrEmpty(typeof value === 'string' ? value.trim() : value),
      isString: (value) => typeof value === 'string',
      transform: {
        toDynamoDBFilterExpression: (filter) => JSON.stringify(expression(filter) ?? null),
        toDynamoDBConditionExpression: (condition) => JSON.stringify(expression(condition) ?? null),
        toSubscriptionFilter: subscriptionFilter,
      },
    };
  }
}

/**
 * A handler's request or response function as the simulator's mapping template. Each call runs the
 * module's body afresh in the module's context (nothing a call leaves in module state reaches the
 * next), with ctx made of that context's own objects, and stops it after HANDLER_TIMEOUT_MS.
 */
class HandlerTemplate {
  constructor(runtime, module, which, simulator) {
    Object.assign(this, { runtime, module, which, simulator });
  }

  render(values, requestContext, info) {
    const { runtime, module, which } = this;
    const invocation = { requestContext, info, errors: [] };
    let ctx;
    // what the simulator takes from a template; a failure adds its error to those util collected
    const outcome = (result, { isReturn = false, hadException = false, error = null } = {}) => ({
      result, isReturn, hadException, stash: ctx?.stash ?? values.stash ?? {}, args: ctx?.args ?? values.arguments ?? {},
      errors: error ? [...invocation.errors, new runtime.TemplateSentError(error.message, error.type, null, null, info)] : invocation.errors,
    });
    const fail = (message, type = 'Code') => outcome(null, { hadException: true, error: { message, type } });
    if (which === 'response' && values.error?.unsupportedDataSource) {
      return fail(values.error.message, 'Unsupported'); // not the handler's to hide: the data source is not here
    }
    if (!module.body) return fail(module.problem);
    const imports = runtime.imports(invocation);
    const exported = { exports: {} };
    const load = (name) => {
      if (name in imports) return imports[name];
      throw new Error(`${module.file} imports ${name}: AppSync's JS runtime provides ${UTILS} and ${DYNAMODB} only; bundle any other code into the handler`);
    };
    try {
      ctx = module.parse(JSON.stringify(this.context(values, requestContext, info)));
      ctx.args = ctx.arguments;
      module.context.__ampflowCall = () => {
        module.body(exported.exports, load, exported); // the module's top level, then its handler: both timed
        const handler = exported.exports[which];
        if (typeof handler !== 'function') throw new Error(`${module.file} exports no ${which} function`);
        return handler(ctx);
      };
      const result = CALL.runInContext(module.context, { timeout: HANDLER_TIMEOUT_MS });
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        result.then(undefined, () => {}); // never an unhandled rejection that would stop the endpoint
        return fail(`${module.file}: ${which} returned a Promise: AppSync's JS runtime runs handlers synchronously (no async, no await)`);
      }
      return outcome(which === 'request' ? dataSourceRequest(result) : result);
    } catch (thrown) {
      if (thrown instanceof EarlyReturn) {
        if (thrown.skipToEnd) skippedToEnd.add(info);
        return outcome(thrown.value, { isReturn: true });
      }
      if (thrown instanceof runtime.TemplateSentError) return outcome(null, { hadException: true }); // util.error: already collected
      if (thrown?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        return fail(`${module.file}: ${which} ran longer than ${HANDLER_TIMEOUT_MS / 1000} s and was stopped`);
      }
      return fail(`${location(thrown, module)}: ${thrown?.name ?? 'Error'}: ${thrown?.message ?? thrown}`);
    }
  }

  /** ctx as AppSync gives it to a JS handler, as JSON: read from what the VTL context would hold. */
  context(values, requestContext, info) {
    const vtl = this.runtime.VelocityTemplate.prototype.buildRenderContext.call({ simulatorContext: this.simulator }, values, requestContext, info).ctx;
    const args = plain(vtl.args) ?? {};
    const identity = plain(vtl.identity);
    if (identity?.claims) identity.groups = identity.claims['cognito:groups'] ?? null; // user pools: the caller's groups
    const ctx = {
      arguments: args,
      identity,
      source: plain(vtl.source),
      stash: plain(vtl.stash) ?? {},
      result: plain(vtl.result),
      info: plain(vtl.info),
      request: { headers: requestContext.headers ?? {}, domainName: null },
      env: {},
    };
    if (vtl.prev) ctx.prev = plain(vtl.prev);
    if (values.error) ctx.error = { message: vtl.error.message, type: vtl.error.type };
    return ctx;
  }
}

const DYNAMODB_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan']);

/**
 * What a request handler returned, as the simulator's data sources take it. JS handlers always get
 * data source errors in ctx.error, which for the simulator is the 2018-05-29 request version. AppSync
 * takes a DynamoDB number as a JSON number too (`{N: 1}`, as Amplify's docs write it); DynamoDB only as a string.
 */
function dataSourceRequest(request) {
  if (request === null || typeof request !== 'object' || Array.isArray(request) || 'version' in request) return request;
  const numbersAsStrings = (value) => {
    if (Array.isArray(value)) return value.map(numbersAsStrings);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'N' && typeof value.N === 'number') return { N: String(value.N) };
    if (keys.length === 1 && keys[0] === 'NS' && Array.isArray(value.NS)) return { NS: value.NS.map(String) };
    return Object.fromEntries(keys.map((key) => [key, numbersAsStrings(value[key])]));
  };
  return { version: '2018-05-29', ...(DYNAMODB_OPERATIONS.has(request.operation) ? numbersAsStrings(request) : request) };
}

/** Where in the app's file an exception was thrown: file:line:column of its source, from the stack, else the file. */
function location(error, { file, sourceMap }) {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = String(error?.stack ?? '').match(new RegExp(`${escaped}:(\\d+):(\\d+)`));
  if (!found) return file;
  const entry = sourceMap.findEntry(Number(found[1]) - 1, Number(found[2]) - 1);
  return entry?.originalLine === undefined ? file : `${file}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
}

function handlerConsole(file) {
  const write = (level) => (...parts) => process.stderr.write(`[${file}] ${level} ${parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(' ')}\n`);
  return { log: write('INFO'), info: write('INFO'), warn: write('WARN'), error: write('ERROR'), debug: write('DEBUG') };
}

/**
 * A filter, condition or key condition object (`{likes: {ge: 3}, or: [...]}`) as a DynamoDB
 * expression, with only the values it uses; `prefix` keeps a filter's value names apart from a key
 * condition's in one query.
 */
function dynamodbExpression(generateFilterExpression, object, prefix) {
  const given = withoutNulls(plain(object ?? null));
  if (given === null || Object.keys(given).length === 0) return undefined;
  const { expressions, expressionNames, expressionValues } = generateFilterExpression(given);
  let expression = expressions.join(' ').trim();
  const values = {};
  for (const [name, value] of Object.entries(expressionValues)) {
    const used = new RegExp(`${name}(?![A-Za-z0-9_])`);
    if (!used.test(expression)) continue;
    const renamed = prefix ? `:${prefix}${name.slice(1)}` : name;
    expression = expression.replace(new RegExp(`${name}(?![A-Za-z0-9_])`, 'g'), renamed);
    values[renamed] = value;
  }
  return { expression, expressionNames, ...(Object.keys(values).length ? { expressionValues: values } : {}) };
}

/** A filter without the fields and groups set to null (typed `| null`: nothing to compare), or null if none is left. */
function withoutNulls(filter) {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) return filter;
  const kept = {};
  for (const [key, condition] of Object.entries(filter)) {
    if (condition === null || condition === undefined) continue;
    if (key === 'and' || key === 'or') {
      const parts = condition.map(withoutNulls).filter((part) => part !== null && Object.keys(part).length > 0);
      if (parts.length) kept[key] = parts;
    } else if (key === 'not') {
      const part = withoutNulls(condition);
      if (part !== null && Object.keys(part).length > 0) kept[key] = part;
    } else kept[key] = condition;
  }
  return kept;
}

/** `@aws-appsync/utils/dynamodb`: request builders for a DynamoDB data source. */
function dynamodbHelpers(util, expression) {
  const keyOf = (key) => util.dynamodb.toMapValues(key);
  const projection = (fields) => {
    if (!fields?.length) return undefined;
    const names = {};
    const paths = fields.map((field) => String(field).split('.').map((part) => {
      names[`#${part}`] = part;
      return `#${part}`;
    }).join('.'));
    return { expression: paths.join(', '), expressionNames: names };
  };
  const operation = (type) => (value) => ({ _type: type, value });
  const operations = {
    add: operation('add'),
    remove: () => ({ _type: 'remove' }),
    replace: operation('replace'),
    increment: (by = 1) => ({ _type: 'increment', value: by }),
    decrement: (by = 1) => ({ _type: 'decrement', value: by }),
    append: operation('append'),
    prepend: operation('prepend'),
    updateListItem: (value, index) => ({ _type: 'updateListItem', value, index }),
  };
  const read = ({ filter, index, limit, nextToken, consistentRead, select, projection: fields, scanIndexForward }, prefix) => ({
    ...(filter ? { filter: expression(filter, prefix) } : {}),
    ...(index ? { index } : {}),
    ...(limit !== undefined && limit !== null ? { limit } : {}),
    ...(nextToken ? { nextToken } : {}),
    ...(consistentRead !== undefined && consistentRead !== null ? { consistentRead } : {}),
    ...(select ? { select } : {}),
    ...(fields ? { projection: projection(fields) } : {}),
    ...(scanIndexForward !== undefined && scanIndexForward !== null ? { scanIndexForward } : {}),
  });
  // Requests the simulator's DynamoDB data source refuses: the handler's response sees that in ctx.error.
  const unsupported = (operationName) => (input) => ({ operation: operationName, ...input });
  return {
    get: ({ key, consistentRead, projection: fields }) => ({
      operation: 'GetItem', key: keyOf(key),
      ...(consistentRead !== undefined ? { consistentRead } : {}), ...(fields ? { projection: projection(fields) } : {}),
    }),
    put: ({ key, item, condition }) => ({
      operation: 'PutItem', key: keyOf(key), attributeValues: util.dynamodb.toMapValues(defined(item) ?? {}),
      ...(condition ? { condition: expression(condition) } : {}),
    }),
    remove: ({ key, condition }) => ({ operation: 'DeleteItem', key: keyOf(key), ...(condition ? { condition: expression(condition) } : {}) }),
    update: ({ key, update, condition }) => ({
      operation: 'UpdateItem', key: keyOf(key), update: updateExpression(update ?? {}, util),
      ...(condition ? { condition: expression(condition, 'condition_') } : {}),
    }),
    query: (input) => ({ operation: 'Query', query: expression(input.query), ...read(input, 'filter_') }),
    scan: (input = {}) => ({
      operation: 'Scan', ...read(input, ''),
      ...(input.segment !== undefined ? { segment: input.segment } : {}), ...(input.totalSegments !== undefined ? { totalSegments: input.totalSegments } : {}),
    }),
    batchGet: unsupported('BatchGetItem'),
    batchPut: unsupported('BatchPutItem'),
    batchDelete: unsupported('BatchDeleteItem'),
    transactGet: unsupported('TransactGetItems'),
    transactWrite: unsupported('TransactWriteItems'),
    sync: unsupported('Sync'),
    operations,
    toStringSet: (values) => util.dynamodb.toStringSet(values),
    toNumberSet: (values) => util.dynamodb.toNumberSet(values),
    toBinarySet: (values) => util.dynamodb.toBinarySet(values),
  };
}

/** ddb.update's update object (values, nested objects and ddb.operations) as an UpdateItem expression. */
function updateExpression(update, util) {
  const names = {};
  const values = {};
  const clauses = { SET: [], REMOVE: [], ADD: [] };
  let counter = 0;
  const value = (raw) => {
    const name = `:v${counter++}`;
    values[name] = typedSet(raw) ? raw : util.dynamodb.toDynamoDB(raw);
    return name;
  };
  const operationOf = (change) => (change && typeof change === 'object' && !Array.isArray(change) ? change._type : undefined);
  const walk = (object, path) => {
    for (const [field, change] of Object.entries(object)) {
      if (change === undefined) continue; // as JSON leaves it out
      names[`#${field}`] = field;
      const target = [...path, `#${field}`].join('.');
      const type = operationOf(change);
      if (type === 'remove') clauses.REMOVE.push(target);
      else if (type === 'increment') clauses.ADD.push(`${target} ${value(change.value)}`);
      else if (type === 'decrement') clauses.ADD.push(`${target} ${value(-change.value)}`);
      else if (type === 'add' && (typeof change.value === 'number' || typedSet(change.value))) clauses.ADD.push(`${target} ${value(change.value)}`);
      else if (type === 'add' || type === 'replace') clauses.SET.push(`${target} = ${value(change.value)}`); // a new attribute
      else if (type === 'append') clauses.SET.push(`${target} = list_append(if_not_exists(${target}, ${value([])}), ${value(change.value)})`);
      else if (type === 'prepend') clauses.SET.push(`${target} = list_append(${value(change.value)}, if_not_exists(${target}, ${value([])}))`);
      else if (type === 'updateListItem') clauses.SET.push(`${target}[${Number(change.index)}] = ${value(change.value)}`);
      else if (Array.isArray(change) && change.length > 0 && change.every((item) => operationOf(item) === 'updateListItem')) {
        for (const item of change) clauses.SET.push(`${target}[${Number(item.index)}] = ${value(item.value)}`);
      } else if (change && typeof change === 'object' && !Array.isArray(change) && !typedSet(change) && Object.keys(change).length > 0) {
        walk(change, [...path, `#${field}`]);
      } else clauses.SET.push(`${target} = ${value(change)}`);
    }
  };
  walk(update, []);
  const expression = Object.entries(clauses).filter(([, parts]) => parts.length).map(([verb, parts]) => `${verb} ${parts.join(', ')}`).join(' ');
  return { expression, expressionNames: names, ...(Object.keys(values).length ? { expressionValues: values } : {}) };
}

/** A DynamoDB set as ddb.toStringSet/toNumberSet/toBinarySet make it: `{SS: [...]}`, kept as it is. */
function typedSet(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && ['SS', 'NS', 'BS'].includes(keys[0]) && Array.isArray(value[keys[0]]);
}

/** `value` without undefined entries, as JSON would carry it. */
function defined(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
