// Subscriptions on the local GraphQL endpoint, as aws-amplify v6 connects and as AppSync filters.
//
// The simulator (2.16.x) has a subscription server at /graphql/realtime that runs each subscription
// field's pipeline and publishes every @aws_subscribe mutation's result. What it lacks, and this adds:
// - the v6 handshake: since aws-amplify 6.6 the client sends its auth as a `header-<base64url JSON>`
//   WebSocket subprotocol, where the simulator reads only a `?header=` query parameter (and closes the
//   connection with 1002 without it); v6 reads `connectionTimeoutMs` from the ack;
// - tokens held to the environment's own user pool and their expiry, as every HTTP request is;
// - filters: the simulator delivers every event to every subscriber. AppSync delivers an event only
//   when it matches the subscription's arguments and the filter its resolver set with
//   `$extensions.setSubscriptionFilter` (Amplify's auth steps put owner and group rules there, so
//   without it one user would receive another owner's items). Events are matched as AppSync matches
//   them: against the payload after field resolvers ran (an owner field reads `username`, not
//   `sub::username`), and a field the subscriber did not select never matches.

import { STATUS_CODES } from 'node:http';

const REALTIME_PATH = '/graphql/realtime';
const CONNECTION_TIMEOUT_MS = 5 * 60 * 1000;
const KEEP_ALIVE_MS = 60 * 1000;

/**
 * Serve subscriptions on `simulator`'s HTTP server. `require` loads from the simulator's install;
 * `tokenProblem(authorization)` says why a token is refused, or null.
 */
export function serveRealtime({ simulator, require, tokenProblem }) {
  const simulatorLib = (path) => require(`@aws-amplify/amplify-appsync-simulator/lib/${path}`);
  addSubscriptionExtensions(simulatorLib);
  const { getArgumentValues } = require('graphql/execution/values');
  const { getNamedType } = require('graphql');
  const { runSubscription } = simulatorLib('utils/graphql-runner/subscriptions');
  const { extractHeader, extractJwtToken, getAuthorizationMode } = simulatorLib('utils/auth-helpers');

  // As on HTTP: a token is checked unless the request carries the API key.
  const refusal = (headers) => (extractHeader(headers, 'x-api-key') ? null : tokenProblem(extractHeader(headers, 'Authorization')));
  const httpServer = simulator._server._httpServer;
  const realtime = simulator._server._realTimeSubscriptionServer.realtimeServer;

  // The handshake: the connection's auth moves from the v6 subprotocol to where the simulator reads it.
  const upgradeListeners = httpServer.listeners('upgrade');
  httpServer.removeAllListeners('upgrade');
  httpServer.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    if (url.pathname !== REALTIME_PATH) return refuseUpgrade(socket, 404, `${url.pathname} is not served`);
    let headers;
    try {
      headers = connectionHeaders(url, request.headers['sec-websocket-protocol']);
    } catch {
      return refuseUpgrade(socket, 400, 'the connection header is not base64 JSON');
    }
    const problem = refusal(headers);
    if (problem) return refuseUpgrade(socket, 401, problem);
    url.searchParams.set('header', Buffer.from(JSON.stringify(headers)).toString('base64'));
    request.url = `${url.pathname}${url.search}`;
    for (const listener of upgradeListeners) listener.call(httpServer, request, socket, head);
  });

  realtime.onConnectionInit = (connection) => {
    connection.isConnectionInitialized = true;
    realtime.sendMessage(connection, undefined, 'connection_ack', { connectionTimeoutMs: CONNECTION_TIMEOUT_MS });
    connection.pingIntervalHandle = setInterval(() => realtime.sendMessage(connection, undefined, 'ka', undefined), KEEP_ALIVE_MS);
  };

  realtime.options.onSubscribeHandler = async (document, variables, headers, request) => {
    try {
      return await subscribe(document, variables, headers, request);
    } catch (error) {
      // the simulator would leave it unhandled, and Node would stop the endpoint
      return { errors: [{ errorType: error.name ?? 'Error', message: error.message ?? String(error) }] };
    }
  };

  async function subscribe(document, variables, headers, request) {
    const problem = refusal(headers);
    if (problem) return { errors: [{ errorType: 'UnauthorizedException', message: problem }] };
    const context = {
      jwt: extractJwtToken(extractHeader(headers, 'Authorization')),
      sourceIp: request.socket.remoteAddress,
      headers,
      requestAuthorizationMode: getAuthorizationMode(headers, simulator.appSyncConfig),
      appsyncErrors: [],
    };
    const result = await runSubscription(simulator.schema, document, variables, undefined, context);
    if (!result.asyncIterator) return result;
    const field = subscribedField(simulator.schema, document, variables, getArgumentValues, getNamedType);
    const filter = context.subscriptionFilter ?? null;
    return filtered(result.asyncIterator, (event) => {
      const item = event?.data?.[field.responseKey];
      return item != null && argumentsMatch(field.arguments, item) && (filter === null || filterMatches(filter, item));
    });
  }
}

function refuseUpgrade(socket, status, message) {
  const body = JSON.stringify({ errors: [{ message }] });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
    `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** The connection's auth headers: from `?header=` (aws-amplify before 6.6) or the `header-` subprotocol (6.6 on). */
function connectionHeaders(url, protocols) {
  const query = url.searchParams.get('header');
  if (query) return JSON.parse(Buffer.from(query, 'base64').toString('utf8'));
  const offered = (protocols ?? '').split(',').map((protocol) => protocol.trim());
  const header = offered.find((protocol) => protocol.startsWith('header-'));
  return header ? JSON.parse(Buffer.from(header.slice('header-'.length), 'base64url').toString('utf8')) : {};
}

/** `$extensions.setSubscriptionFilter` and `$util.transform.toSubscriptionFilter`, which AppSync has and the simulator lacks. */
function addSubscriptionExtensions(simulatorLib) {
  const { VelocityTemplate } = simulatorLib('velocity');
  const { transformUtils } = simulatorLib('velocity/util/transform');
  if (VelocityTemplate.prototype.ampflowExtensions) return;
  transformUtils.toSubscriptionFilter = (filter) => subscriptionFilter(filter);
  const buildRenderContext = VelocityTemplate.prototype.buildRenderContext;
  VelocityTemplate.prototype.buildRenderContext = function (values, requestContext, info) {
    const context = buildRenderContext.call(this, values, requestContext, info);
    // A bare `$extensions.x(...)` in a template renders what the call returns: return ''.
    context.extensions = {
      setSubscriptionFilter: (filter) => {
        setSubscriptionFilter(requestContext, filter);
        return '';
      },
      setSubscriptionInvalidationFilter: () => '',
      invalidateSubscriptions: () => '',
    };
    return context;
  };
  VelocityTemplate.prototype.ampflowExtensions = true;
}

/**
 * `util.transform.toSubscriptionFilter` (VTL's and JS's): the filter kept in its input form, which
 * filterMatches reads (AppSync turns it into its filterGroup form; both forms are matched here).
 * `ignoredFields` are left out; `rules` must hold as well.
 */
export function subscriptionFilter(filter, ignoredFields = [], rules = undefined) {
  const kept = Object.fromEntries(Object.entries(plain(filter) ?? {}).filter(([name]) => !ignoredFields.includes(name)));
  return { ampflowFilterInput: rules ? { and: [kept, plain(rules)] } : kept };
}

/** `extensions.setSubscriptionFilter` (VTL's and JS's): the filter the subscription being started delivers by. */
export function setSubscriptionFilter(requestContext, filter) {
  requestContext.subscriptionFilter = plain(filter);
}

/** A value as plain JSON: the simulator's Java-like maps through their toJSON. */
export function plain(value) {
  if (value === undefined) return undefined;
  return value && typeof value.toJSON === 'function' ? value.toJSON() : JSON.parse(JSON.stringify(value ?? null));
}

/**
 * The subscription field a document asks for: its response key and the argument values given that
 * name a field of what it returns (`filter`, and an argument such as `roomPrefix` that only its
 * resolver reads, are not compared with the event).
 */
function subscribedField(schema, document, variables, getArgumentValues, getNamedType) {
  const operation = document.definitions.find((definition) => definition.kind === 'OperationDefinition');
  const node = operation.selectionSet.selections.find((selection) => selection.kind === 'Field');
  const definition = schema.getSubscriptionType().getFields()[node.name.value];
  const returned = getNamedType(definition.type);
  const fields = typeof returned.getFields === 'function' ? returned.getFields() : {};
  const values = getArgumentValues(definition, node, variables ?? {});
  const given = Object.entries(values).filter(([name, value]) => name in fields && value !== null && value !== undefined);
  return { responseKey: node.alias?.value ?? node.name.value, arguments: Object.fromEntries(given) };
}

/** AppSync's rule for subscription arguments: each one given must equal the event's field of that name. */
function argumentsMatch(args, item) {
  return Object.entries(args).every(([name, value]) => equal(item[name], value));
}

/** An async iterator over `iterator`'s events that `keep` accepts; return() ends both. */
function filtered(iterator, keep) {
  return {
    async next() {
      for (;;) {
        const step = await iterator.next();
        if (step.done || keep(step.value)) return step;
      }
    },
    return: (value) => (iterator.return ? iterator.return(value) : Promise.resolve({ value, done: true })),
    throw: (error) => (iterator.throw ? iterator.throw(error) : Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Whether `item` matches a subscription filter: the model filter input Amplify generates
 * (`{field: {eq: v}, and: [...], or: [...], not: {...}}`, from toSubscriptionFilter) or AppSync's
 * filterGroup form (`{filterGroup: [{filters: [{fieldName, operator, value}]}]}`: any group, all its filters).
 */
function filterMatches(filter, item) {
  if (filter === null || filter === undefined) return true;
  if ('ampflowFilterInput' in filter) return inputMatches(filter.ampflowFilterInput, item);
  if (Array.isArray(filter.filterGroup)) {
    return filter.filterGroup.some((group) =>
      (group.filters ?? []).every(({ fieldName, operator, value }) => operatorMatches(operator, item[fieldName], value)));
  }
  if (Array.isArray(filter.filters)) return filter.filters.every(({ fieldName, operator, value }) => operatorMatches(operator, item[fieldName], value));
  return inputMatches(filter, item);
}

function inputMatches(filter, item) {
  return Object.entries(filter ?? {}).every(([key, condition]) => {
    if (key === 'and') return condition.every((part) => inputMatches(part, item));
    if (key === 'or') return condition.length === 0 || condition.some((part) => inputMatches(part, item));
    if (key === 'not') return !inputMatches(condition, item);
    return Object.entries(condition ?? {}).every(([operator, value]) => operatorMatches(operator, item[key], value));
  });
}

function operatorMatches(operator, actual, expected) {
  switch (operator) {
    case 'eq': return equal(actual, expected);
    case 'ne': return !equal(actual, expected);
    case 'gt': return actual !== undefined && actual !== null && actual > expected;
    case 'ge': return actual !== undefined && actual !== null && actual >= expected;
    case 'lt': return actual !== undefined && actual !== null && actual < expected;
    case 'le': return actual !== undefined && actual !== null && actual <= expected;
    case 'between': return actual !== undefined && actual !== null && actual >= expected[0] && actual <= expected[1];
    case 'beginsWith': return typeof actual === 'string' && actual.startsWith(expected);
    case 'contains': return contains(actual, expected);
    case 'notContains': return !contains(actual, expected);
    case 'in': return Array.isArray(expected) && expected.some((value) => equal(actual, value));
    case 'notIn': return Array.isArray(expected) && !expected.some((value) => equal(actual, value));
    case 'containsAny': return Array.isArray(actual) && Array.isArray(expected) && expected.some((value) => contains(actual, value));
    case 'attributeExists': return (actual !== undefined && actual !== null) === Boolean(expected);
    default: return false; // an operator AppSync has and this does not: deliver nothing rather than too much
  }
}

function contains(actual, expected) {
  if (typeof actual === 'string') return typeof expected === 'string' && actual.includes(expected);
  return Array.isArray(actual) && actual.some((value) => equal(value, expected));
}

function equal(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
