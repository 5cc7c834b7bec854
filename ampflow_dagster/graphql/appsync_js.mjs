// APPSYNC_JS handlers (Amplify's a.handler.custom) on the local GraphQL endpoint, run as AppSync runs them.
//
// The simulator runs VTL only: each resolver and pipeline function asks it for a request and a
// response "mapping template" and calls its render(). A JS handler is one module exporting
// request(ctx) and response(ctx); here each becomes a pair of templates whose render() calls the
// module, so the simulator's resolvers, pipelines, data sources and subscriptions run it unchanged:
// - the module (an ES module importing only @aws-appsync/utils) is turned into a script with esbuild
//   and run in a context of its own, with the ECMAScript globals and `console` only, as AppSync has;
// - `@aws-appsync/utils` gives util (the simulator's VTL utilities where they agree, AppSync's JS
//   behaviour where they do not), runtime.earlyReturn and extensions.setSubscriptionFilter;
//   `@aws-appsync/utils/dynamodb` builds the same DynamoDB requests AppSync's does;
// - a request's result goes to the data source as a VTL template's would, with errors handed to the
//   response handler as ctx.error (AppSync's 2018-05-29 behaviour, the only one JS handlers have);
// - an exception in the handler fails the field with errorType "Code" and the file, line and message.

import { SourceMap } from 'node:module';
import vm from 'node:vm';

const UTILS = '@aws-appsync/utils';
const DYNAMODB = '@aws-appsync/utils/dynamodb';

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
}

/** The one invocation running now: handlers are synchronous, so there is never more than one. */
class Invocation {
  constructor(runtime, requestContext, info) {
    this.requestContext = requestContext;
    this.info = info;
    this.errors = [];
    this.util = runtime.util(this);
  }
}

class EarlyReturn {
  constructor(value) {
    this.value = value;
  }
}

class Runtime {
  constructor(lib, esbuild) {
    this.esbuild = esbuild;
    this.current = null;
    const { create, TemplateSentError, Unauthorized } = lib('velocity/util');
    const { VelocityTemplate } = lib('velocity');
    const { generateFilterExpression } = lib('velocity/util/transform/dynamodb-filter');
    Object.assign(this, { create, TemplateSentError, Unauthorized, VelocityTemplate });
    this.expression = (object, prefix = '') => dynamodbExpression(generateFilterExpression, object, prefix);
    const active = () => {
      if (!this.current) throw new Error('@aws-appsync/utils is used outside a request or response handler');
      return this.current;
    };
    // One object per import, the same for every call; what it reads is the running invocation's.
    const util = new Proxy({}, { get: (_, name) => active().util[name] });
    const extensions = {
      setSubscriptionFilter: (filter) => {
        active().requestContext.subscriptionFilter = plain(filter);
      },
      setSubscriptionInvalidationFilter: () => {},
      invalidateSubscriptions: () => {},
    };
    this.imports = {
      [UTILS]: { util, extensions, runtime: { earlyReturn: (value) => { throw new EarlyReturn(value); } } },
      [DYNAMODB]: dynamodbHelpers(util, this.expression),
    };
  }

  /** A handler module ready to call, or one whose every call fails with why it cannot run. */
  load(file, source) {
    let script;
    let sourceMap;
    try {
      const compiled = this.esbuild.transformSync(source, { format: 'cjs', loader: file.endsWith('.ts') ? 'ts' : 'js', sourcefile: file, sourcemap: 'external', target: 'es2022' });
      script = compiled.code;
      sourceMap = new SourceMap(JSON.parse(compiled.map));
    } catch (error) {
      const first = error.errors?.[0];
      const where = first?.location ? `${file}:${first.location.line}:${first.location.column}` : file;
      return { file, problem: `${where}: SyntaxError: ${first?.text ?? error.message}` };
    }
    const context = vm.createContext({ console: handlerConsole(file) });
    const module = { exports: {} };
    const load = (name) => {
      if (name in this.imports) return this.imports[name];
      throw new Error(`${file} imports ${name}: AppSync's JS runtime provides ${UTILS} and ${DYNAMODB} only; bundle any other code into the handler`);
    };
    try {
      vm.runInContext(`(function (exports, require, module) {${script}\n})`, context, { filename: file })(module.exports, load, module);
    } catch (error) {
      return { file, problem: `${file}: ${error.name}: ${error.message}` };
    }
    return { file, exports: module.exports, sourceMap };
  }

  /** The util object of one invocation: the simulator's VTL utilities, with AppSync's JS behaviour where it differs. */
  util(invocation) {
    const vtl = this.create(invocation.errors, new Date(), invocation.info, invocation.requestContext);
    const { expression } = this;
    const isNullOrEmpty = (value) => value === null || value === undefined || value === '' ||
      (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
    return {
      ...vtl,
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
        toSubscriptionFilter: (filter, ignoredFields = [], rules = undefined) => subscriptionFilter(filter, ignoredFields, rules),
      },
    };
  }
}

/** A handler's request or response function as the simulator's mapping template. */
class HandlerTemplate {
  constructor(runtime, module, which, simulator) {
    Object.assign(this, { runtime, module, which, simulator });
  }

  render(values, requestContext, info) {
    const { runtime, module, which } = this;
    const invocation = new Invocation(runtime, requestContext, info);
    const ctx = this.context(values, requestContext, info);
    const outcome = (fields) => ({ stash: ctx.stash, args: ctx.args, errors: invocation.errors, isReturn: false, hadException: false, ...fields });
    const handler = module.exports?.[which];
    if (which === 'response' && values.error?.unsupportedDataSource) {
      // not the handler's to hide: the data source does not exist here, and the field says so
      return outcome({ result: null, hadException: true, errors: [new runtime.TemplateSentError(values.error.message, 'Unsupported', null, null, info)] });
    }
    if (typeof handler !== 'function') {
      const problem = module.problem ?? `${module.file} exports no ${which} function`;
      return outcome({ result: null, hadException: true, errors: [new runtime.TemplateSentError(problem, 'Code', null, null, info)] });
    }
    runtime.current = invocation;
    try {
      const result = handler(ctx);
      return outcome({ result: which === 'request' ? dataSourceRequest(result) : result });
    } catch (thrown) {
      if (thrown instanceof EarlyReturn) return outcome({ result: thrown.value, isReturn: true });
      if (thrown instanceof runtime.TemplateSentError) return outcome({ result: null, hadException: true });
      const error = new runtime.TemplateSentError(`${location(thrown, module)}: ${thrown?.name ?? 'Error'}: ${thrown?.message ?? thrown}`, 'Code', null, null, info);
      return outcome({ result: null, hadException: true, errors: [...invocation.errors, error] });
    } finally {
      runtime.current = null;
    }
  }

  /** ctx as AppSync gives it to a JS handler: plain objects, read from what the VTL context would hold. */
  context(values, requestContext, info) {
    const vtl = this.runtime.VelocityTemplate.prototype.buildRenderContext.call({ simulatorContext: this.simulator }, values, requestContext, info).ctx;
    const args = plain(vtl.args) ?? {};
    const ctx = {
      arguments: args,
      args,
      identity: plain(vtl.identity),
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

function plain(value) {
  if (value === undefined) return undefined;
  return value && typeof value.toJSON === 'function' ? value.toJSON() : JSON.parse(JSON.stringify(value ?? null));
}

/** util.transform.toSubscriptionFilter: the filter kept in its input form, as realtime.mjs matches it. */
function subscriptionFilter(filter, ignoredFields, rules) {
  const kept = Object.fromEntries(Object.entries(plain(filter) ?? {}).filter(([name]) => !ignoredFields.includes(name)));
  return { ampflowFilterInput: rules ? { and: [kept, plain(rules)] } : kept };
}

/**
 * A filter, condition or key condition object (`{likes: {ge: 3}, or: [...]}`) as a DynamoDB
 * expression, with only the values it uses; `prefix` keeps a filter's value names apart from a key
 * condition's in one query.
 */
function dynamodbExpression(generateFilterExpression, object, prefix) {
  if (object === null || object === undefined || Object.keys(object).length === 0) return undefined;
  const { expressions, expressionNames, expressionValues } = generateFilterExpression(plain(object));
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
      operation: 'PutItem', key: keyOf(key), attributeValues: util.dynamodb.toMapValues(item ?? {}),
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
    values[name] = util.dynamodb.toDynamoDB(raw);
    return name;
  };
  const walk = (object, path) => {
    for (const [field, change] of Object.entries(object)) {
      names[`#${field}`] = field;
      const target = [...path, `#${field}`].join('.');
      const type = change && typeof change === 'object' && !Array.isArray(change) ? change._type : undefined;
      if (type === 'remove') clauses.REMOVE.push(target);
      else if (type === 'increment') clauses.ADD.push(`${target} ${value(change.value)}`);
      else if (type === 'decrement') clauses.ADD.push(`${target} ${value(-change.value)}`);
      else if (type === 'add') clauses.ADD.push(`${target} ${value(change.value)}`);
      else if (type === 'replace') clauses.SET.push(`${target} = ${value(change.value)}`);
      else if (type === 'append') clauses.SET.push(`${target} = list_append(if_not_exists(${target}, ${value([])}), ${value(change.value)})`);
      else if (type === 'prepend') clauses.SET.push(`${target} = list_append(${value(change.value)}, if_not_exists(${target}, ${value([])}))`);
      else if (type === 'updateListItem') clauses.SET.push(`${target}[${Number(change.index)}] = ${value(change.value)}`);
      else if (change && typeof change === 'object' && !Array.isArray(change) && Object.keys(change).length > 0) walk(change, [...path, `#${field}`]);
      else clauses.SET.push(`${target} = ${value(change)}`);
    }
  };
  walk(update, []);
  const expression = Object.entries(clauses).filter(([, parts]) => parts.length).map(([verb, parts]) => `${verb} ${parts.join(', ')}`).join(' ');
  return { expression, expressionNames: names, ...(Object.keys(values).length ? { expressionValues: values } : {}) };
}
