// Drives the real Amplify JS client (aws-amplify 6) against an environment, as a front end would:
//   node client.mjs <amplify_outputs.json> <amplify_configure_local.js or -> <steps.json>
// Configures Amplify with ampflow's outputs and its generated local configuration (without one,
// with Amplify.configure(outputs) alone, as for an app without a user pool), then runs each
// step in order and prints one JSON line: [{step, data, errors}], one entry per step. A step is
//   {"op": "list", "model": "Todo"}                      every item, following nextToken
//   {"op": "get", "model": "InventoryItem", "key": {...}}
//   {"op": "related", "model": "Project", "key": {...}, "field": "tasks"}  the lazy loader's answer
//   {"op": "create", "model": "Todo", "input": {...}}
//   {"op": "update", "model": "Todo", "input": {"id": ..., ...}}   {"op": "delete", "model": "Todo", "key": {...}}
//   {"op": "signIn", "username": "...", "password": "..."}  SRP against the local user pool
//   {"op": "signOut"}
//   {"op": "query", "name": "getPostJs", "args": {...}}   a custom query (client.queries), or
//   {"op": "mutation", "name": "publish", "args": {...}}  a custom mutation (client.mutations)
//   {"op": "subscribe", "model": "Todo", "event": "onCreate", "name": "s1", "filter": {...}}
//                                                        returns once AppSync's start_ack arrived
//   {"op": "subscribe", "subscription": "receive", "args": {...}, "name": "s2"}  a custom subscription
//   {"op": "received", "name": "s1", "count": 2, "waitMs": 10000}  the events so far, once `count`
//                                                        arrived or waitMs passed (count 0: all of waitMs)
//   {"op": "unsubscribe", "name": "s1"}
//   {"op": "upload", "path": "attachments/x.txt", "text": "..."}  Storage's uploadData; errors as `<name>: <message>`
// and may name an "authMode" ("apiKey", "userPool"); without one the outputs' default applies.
// Node has no WebSocket of its own before 22: the `ws` package stands in for the browser's, watched
// for start_ack messages.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { WebSocket as NodeWebSocket } from 'ws';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { fetchAuthSession, signIn, signOut } from 'aws-amplify/auth';
import { uploadData } from 'aws-amplify/storage';

const [outputsFile, configureFile, stepsFile] = process.argv.slice(2);
const outputs = JSON.parse(readFileSync(outputsFile, 'utf8'));
let startAcks = 0;
globalThis.WebSocket = class extends NodeWebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    this.addEventListener('message', (message) => {
      if (JSON.parse(String(message.data)).type === 'start_ack') startAcks += 1;
    });
  }
};
if (configureFile === '-') {
  Amplify.configure(outputs);
} else {
  const { configureAmplify } = await import(pathToFileURL(configureFile).href);
  configureAmplify(Amplify, outputs);
}
const client = generateClient();

const subscriptions = new Map();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(done, waitMs) {
  const deadline = Date.now() + waitMs;
  while (!done() && Date.now() < deadline) await sleep(20);
  return done();
}

const plain = (value) => JSON.parse(JSON.stringify(value ?? null)); // lazy loaders are functions: dropped
const messages = (errors) => (errors ?? []).map((error) => error.message ?? String(error));

async function run(step) {
  const options = step.authMode ? { authMode: step.authMode } : {};
  const model = step.model ? client.models[step.model] : undefined;
  if (step.model && !model) return { errors: [`client.models has no ${step.model}`] };
  switch (step.op) {
    case 'list': {
      const items = [];
      let nextToken = null;
      do {
        const page = await model.list({ ...options, nextToken, limit: 100 });
        if (page.errors?.length) return { data: plain(items), errors: messages(page.errors) };
        items.push(...page.data);
        nextToken = page.nextToken;
      } while (nextToken);
      return { data: plain(items), errors: [] };
    }
    case 'get': {
      const answer = await model.get(step.key, options);
      return { data: plain(answer.data), errors: messages(answer.errors) };
    }
    case 'related': {
      const parent = await model.get(step.key, options);
      if (!parent.data) return { data: null, errors: [`${step.model} ${JSON.stringify(step.key)} not found`, ...messages(parent.errors)] };
      const related = await parent.data[step.field](options);
      const data = plain(related.data);
      // one step further back: each related item's own reference to the parent, when it has one
      if (Array.isArray(related.data) && step.back) {
        for (const [index, item] of related.data.entries()) {
          const back = await item[step.back](options);
          data[index][step.back] = plain(back.data);
        }
      }
      return { data, errors: messages(related.errors) };
    }
    case 'create': {
      const answer = await model.create(step.input, options);
      return { data: plain(answer.data), errors: messages(answer.errors) };
    }
    case 'update': {
      const answer = await model.update(step.input, options);
      return { data: plain(answer.data), errors: messages(answer.errors) };
    }
    case 'delete': {
      const answer = await model.delete(step.key, options);
      return { data: plain(answer.data), errors: messages(answer.errors) };
    }
    case 'signIn': {
      const answer = await signIn({ username: step.username, password: step.password });
      const session = await fetchAuthSession();
      return { data: { ...plain(answer), sub: session.tokens?.idToken?.payload?.sub ?? null }, errors: [] };
    }
    case 'query':
    case 'mutation': {
      const operation = (step.op === 'query' ? client.queries : client.mutations)[step.name];
      if (!operation) return { errors: [`client.${step.op === 'query' ? 'queries' : 'mutations'} has no ${step.name}`] };
      const answer = await operation(step.args ?? {}, options);
      return { data: plain(answer.data), errors: messages(answer.errors) };
    }
    case 'subscribe': {
      const watched = { events: [], errors: [] };
      const acked = startAcks;
      const observable = step.subscription
        ? client.subscriptions[step.subscription](step.args ?? {}, options)
        : model[step.event]({ ...options, ...(step.filter ? { filter: step.filter } : {}) });
      watched.subscription = observable.subscribe({
        next: (item) => watched.events.push(plain(item)),
        error: (error) => watched.errors.push(...messages(error?.errors ?? [error])),
      });
      subscriptions.set(step.name, watched);
      const started = await until(() => startAcks > acked || watched.errors.length > 0, step.waitMs ?? 15000);
      return { data: null, errors: started ? watched.errors : ['no start_ack within the wait'] };
    }
    case 'received': {
      const watched = subscriptions.get(step.name);
      await until(() => step.count > 0 && watched.events.length >= step.count, step.waitMs ?? 10000);
      return { data: watched.events, errors: watched.errors };
    }
    case 'unsubscribe':
      subscriptions.get(step.name).subscription.unsubscribe();
      subscriptions.delete(step.name);
      return { data: null, errors: [] };
    case 'upload': {
      try {
        const uploaded = await uploadData({ path: step.path, data: step.text }).result;
        return { data: plain(uploaded), errors: [] };
      } catch (error) {
        return { data: null, errors: [`${error.name}: ${error.message}`] };
      }
    }
    case 'signOut':
      await signOut();
      return { data: null, errors: [] };
    default:
      return { errors: [`unknown step ${step.op}`] };
  }
}

const results = [];
for (const step of JSON.parse(readFileSync(stepsFile, 'utf8'))) {
  try {
    results.push({ step, ...(await run(step)) });
  } catch (error) {
    results.push({ step, data: null, errors: [`${error.name}: ${error.message}`] });
  }
}
for (const { subscription } of subscriptions.values()) subscription.unsubscribe();
process.stdout.write(JSON.stringify(results) + '\n');
process.exit(0); // an open WebSocket would keep Node running
