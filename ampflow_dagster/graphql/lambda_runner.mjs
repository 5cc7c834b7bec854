// Runs one invocation of an a.handler.function's synthesized bundle, as Lambda's Node runtime would:
//   node lambda_runner.mjs <bundle dir> <handler, e.g. index.handler> <function name> <timeout seconds>
// The event (AppSync's payload) comes on stdin; the result, or the error, goes out on file
// descriptor 3 as {"result"} or {"error", "errorType"}, so whatever the handler logs on stdout and
// stderr stays out of it. The launcher starts one such process per invocation.
import { existsSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';

const [dir, handlerName, functionName, timeoutSeconds] = process.argv.slice(2);
const answer = (value) => {
  writeSync(3, JSON.stringify(value));
  process.exit(0);
};
const fail = (error) => answer({ error: error?.message ?? String(error), errorType: error?.name ?? 'Error' });

try {
  const [module, exported] = [handlerName.slice(0, handlerName.lastIndexOf('.')), handlerName.slice(handlerName.lastIndexOf('.') + 1)];
  const file = ['.mjs', '.js', '.cjs'].map((suffix) => join(dir, module + suffix)).find(existsSync);
  if (!file) throw new Error(`${functionName}: no ${module}.mjs, .js or .cjs in its bundle`);
  const handler = (await import(pathToFileURL(file).href))[exported];
  if (typeof handler !== 'function') throw new Error(`${functionName}: ${file} exports no function ${exported}`);
  const event = JSON.parse(readFileSync(0, 'utf8'));
  const deadline = Date.now() + Number(timeoutSeconds) * 1000;
  const context = {
    functionName, functionVersion: '$LATEST', awsRequestId: randomUUID(), memoryLimitInMB: '512',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), callbackWaitsForEmptyEventLoop: true,
  };
  const result = await new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
    if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
  });
  answer({ result: result ?? null });
} catch (error) {
  fail(error);
}
