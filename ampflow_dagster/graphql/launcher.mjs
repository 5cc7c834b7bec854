// Serves one local environment's GraphQL API on loopback with Amplify's AppSync simulator
// (@aws-amplify/amplify-appsync-simulator, the engine of Gen 1's `amplify mock api`), against the
// DynamoDB endpoint that holds the environment's tables.
// Usage: node launcher.mjs <config.json> <simulator install dir>
// The config is written by ampflow (targets/graphql_endpoint.py) from the synthesized data API:
// schema, data sources, pipeline functions and resolvers referring to templates by hash, the
// DynamoDB endpoint, the API key and the user pool. Prints one JSON line once listening; stops on
// SIGTERM/SIGINT, and by itself when its DynamoDB endpoint has stopped answering or its config is gone
// (the project's folder was deleted).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveJavascriptHandlers } from './appsync_js.mjs';
import { serveRealtime } from './realtime.mjs';

const SERVED_AUTHORIZATION = ['API_KEY', 'AMAZON_COGNITO_USER_POOLS'];
const WATCH_INTERVAL_MS = 5000;
const WATCH_FAILURES = 3;

const started = performance.now();
const [configPath, simulatorDir] = process.argv.slice(2);
if (!configPath || !simulatorDir) {
  console.error('usage: node launcher.mjs <config.json> <simulator install dir>');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
// The simulator lives in one shared install, not in the app: load it (and its one graphql) from there.
const require = createRequire(join(simulatorDir, 'package.json'));
const { AmplifyAppSyncSimulator } = require('@aws-amplify/amplify-appsync-simulator');

const { endpoint, region, accessKeyId, secretAccessKey } = config.dynamodb;
const dataSource = (source) => {
  if (source.unsupported) return failing(source, source.unsupported);
  if (source.type === 'AMAZON_DYNAMODB') {
    const credentials = { accessKeyId, secretAccessKey }; // SDK v3 ignores flat credential keys
    return { name: source.name, type: source.type, config: { tableName: source.tableName, endpoint, region, credentials } };
  }
  if (source.type === 'NONE') return { name: source.name, type: 'NONE' };
  const lambda = source.type === 'AWS_LAMBDA' && lambdas.get(source.function);
  if (lambda) return { name: source.name, type: 'AWS_LAMBDA', invoke: (payload) => invokeLambda(lambda, payload) };
  return failing(source, `a ${source.type} data source does not run on the local endpoint yet`);
};
// HTTP, OpenSearch, a function or table that is not here: the query fails with the reason, never silently.
const failing = (source, reason) => ({
  name: source.name,
  type: 'AWS_LAMBDA',
  invoke: async () => {
    const error = new Error(`data source ${source.name} does not run on ampflow's local endpoint: ${reason}`);
    error.unsupportedDataSource = true;
    throw error;
  },
});
// a.handler.function: each invocation runs the function's bundle in a child process of its own, with
// the function's environment and the emulator as its AWS (lambda_runner.mjs).
const LAMBDA_RUNNER = join(dirname(fileURLToPath(import.meta.url)), 'lambda_runner.mjs');
const lambdas = new Map((config.lambdas ?? []).map((lambda) => [lambda.name, lambda]));
function invokeLambda(lambda, payload) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAMBDA_RUNNER, lambda.dir, lambda.handler, lambda.functionName, String(lambda.timeout)], {
      cwd: lambda.dir,
      env: {
        PATH: process.env.PATH, NODE_OPTIONS: '', TZ: 'UTC', ...lambda.environment,
        AWS_REGION: region, AWS_DEFAULT_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey,
        AWS_ENDPOINT_URL: endpoint, AWS_LAMBDA_FUNCTION_NAME: lambda.functionName, AWS_EXECUTION_ENV: `AWS_Lambda_${lambda.runtime}`,
      },
      stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
    });
    let answer = '';
    child.stdio[3].on('data', (chunk) => (answer += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), lambda.timeout * 1000 + 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal) return reject(new Error(`${lambda.functionName}: Task timed out after ${lambda.timeout} seconds`));
      let parsed;
      try {
        parsed = JSON.parse(answer);
      } catch {
        return reject(new Error(`${lambda.functionName} exited (code ${code}) without an answer`));
      }
      if ('error' in parsed) {
        const error = new Error(parsed.error);
        error.name = parsed.errorType;
        return reject(error);
      }
      resolve(parsed.result);
    });
    child.stdin.end(JSON.stringify(payload));
  });
}
const dataSources = config.dataSources.map(dataSource);

// Templates are registered once by hash and parsed once at init (inline templates given to a
// resolver would be parsed again on every request). An APPSYNC_JS module is a request and a response
// template of its own (appsync_js.mjs).
const mappingTemplates = Object.entries(config.templates).map(([path, content]) => ({ path, content }));
const templates = (entry) => (entry.code
  ? { requestMappingTemplateLocation: `${entry.code}#request`, responseMappingTemplateLocation: `${entry.code}#response` }
  : { requestMappingTemplateLocation: entry.request ?? undefined, responseMappingTemplateLocation: entry.response ?? undefined });
const functions = config.functions.map((fn) => ({ name: fn.name, dataSourceName: fn.dataSourceName, ...templates(fn) }));
const resolvers = config.resolvers.map((resolver) => ({
  kind: resolver.kind,
  typeName: resolver.typeName,
  fieldName: resolver.fieldName,
  ...(resolver.kind === 'PIPELINE' ? { functions: resolver.functions } : { dataSourceName: resolver.dataSourceName }),
  ...templates(resolver),
}));

// API key and user pools only. AWS_IAM is left out: the simulator takes any SigV4-looking header
// as IAM without checking it, and Amplify's IAM rules grant such callers everything.
const provider = (type) =>
  type === 'AMAZON_COGNITO_USER_POOLS' ? { authenticationType: type, cognitoUserPoolConfig: {} } : { authenticationType: type };
const modes = [config.auth.default, ...config.auth.additional].filter((type) => SERVED_AUTHORIZATION.includes(type));
const appSync = {
  name: config.apiName,
  defaultAuthenticationType: provider(modes[0] ?? 'API_KEY'),
  additionalAuthenticationProviders: modes.slice(1).map(provider),
  apiKey: config.auth.apiKey,
};

const simulator = new AmplifyAppSyncSimulator({ port: config.port, wsPort: config.port });
serveJavascriptHandlers({ simulator, require, modules: config.code ?? {} });
simulator.init({
  schema: { path: 'schema.graphql', content: config.schema },
  resolvers, functions, dataSources, mappingTemplates, appSync,
});

// The simulator listens on every interface and serves routes a shared endpoint must not:
// DELETE /clear-data empties every table, GET /api-config returns the API key, / a mock UI.
// Its only Cognito check is that a token's issuer starts with https://cognito-idp.: hold a
// token to the environment's own pool and to its expiry before the simulator sees it, on HTTP and
// on the subscriptions' WebSocket (realtime.mjs).
const httpServer = simulator._server._httpServer;
const [simulatorHandler] = httpServer.listeners('request');
httpServer.removeAllListeners('request');
const pool = config.auth.userPool;
const issuer = pool ? `https://cognito-idp.${pool.region}.amazonaws.com/${pool.id}` : null;
const refuse = (response, status, message, errorType) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ errors: [{ errorType, message }] }));
};
httpServer.on('request', (request, response) => {
  const path = request.url.split('?')[0];
  if (path !== '/graphql') return refuse(response, 404, `${request.method} ${path} is not served`, 'NotFound');
  const problem = request.headers['x-api-key'] ? null : tokenProblem(request.headers.authorization);
  if (problem) return refuse(response, 401, problem, 'UnauthorizedException');
  return simulatorHandler(request, response);
});
serveRealtime({ simulator, require, tokenProblem });
const listen = httpServer.listen.bind(httpServer);
httpServer.listen = (port) => listen(port, '127.0.0.1'); // loopback only

/** Why a user-pool token is refused (not from this environment's pool, expired), or null (no token, or a good one). */
function tokenProblem(authorization) {
  if (!authorization) return null;
  const claims = jwtClaims(String(authorization).replace(/^Bearer /, ''));
  if (!claims || !issuer || claims.iss !== issuer) return "Token is not from this environment's user pool";
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return 'Token has expired';
  return null;
}

function jwtClaims(token) {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

// An endpoint outlives the run that started it, but not its tables nor its project: when the
// DynamoDB endpoint has stopped answering (the emulator was stopped), or its config file is gone
// (the project's folder was deleted), this one stops too.
function watchDynamodb() {
  const { hostname, port } = new URL(endpoint);
  let failures = 0;
  const probe = () => {
    if (!existsSync(configPath)) return stop(`${configPath} is gone`);
    const socket = connect({ host: hostname, port: Number(port) || 80 });
    socket.setTimeout(2000);
    const done = (ok) => {
      socket.destroy();
      failures = ok ? 0 : failures + 1;
      if (failures >= WATCH_FAILURES) stop(`DynamoDB endpoint ${endpoint} stopped answering`);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  };
  setInterval(probe, WATCH_INTERVAL_MS).unref();
}

async function stop(reason) {
  if (reason) console.error(`stopping: ${reason}`);
  await simulator.stop();
  process.exit(0);
}

await simulator.start();
watchDynamodb();
console.log(JSON.stringify({
  url: `http://127.0.0.1:${httpServer.address().port}/graphql`,
  pid: process.pid,
  startedMs: Math.round(performance.now() - started),
}));
process.on('SIGTERM', () => stop());
process.on('SIGINT', () => stop());
