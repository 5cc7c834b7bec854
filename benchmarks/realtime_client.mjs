// Measures the local endpoint's subscriptions and JS handlers from outside, over its wire protocols:
//   node realtime_client.mjs <simulator install dir> <graphql url> <api key> <events> <subscribers> <queries>
// 1. one subscriber to onCreatePost; <events> createPost mutations one after another: each mutation's
//    HTTP round trip, and the time from sending it to its event arriving at the subscriber;
// 2. <subscribers> subscribers on one connection each; <events> more mutations: how many events each
//    received, and per event the spread between the first and the last subscriber's arrival;
// 3. getPostJs (an a.handler.custom pipeline) and getPost (Amplify's VTL) of the same item, alternated,
//    <queries> times each.
// Prints one JSON line. The subscribers speak AppSync's protocol as aws-amplify 6.6+ does (auth in a
// `header-` subprotocol), with the `ws` package of the simulator's own install.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import http from 'node:http';

const [simulatorDir, url, apiKey, eventCount, subscriberCount, queryCount] = process.argv.slice(2);
const { WebSocket } = createRequire(join(simulatorDir, 'package.json'))('ws');
const address = new URL(url);
const auth = { host: address.host, 'x-api-key': apiKey };
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const SUBSCRIPTION = 'subscription { onCreatePost { id title likes } }';

function post(query, variables) {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        const answer = JSON.parse(text);
        if (answer.errors?.length) reject(new Error(JSON.stringify(answer.errors)));
        else resolve(answer.data);
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** A subscriber: resolves once AppSync's start_ack arrived; `arrivals` maps an item id to when its event came. */
function subscribe() {
  const header = Buffer.from(JSON.stringify(auth)).toString('base64url');
  const socket = new WebSocket(`ws://${address.host}${address.pathname}/realtime`, ['graphql-ws', `header-${header}`]);
  const subscriber = { socket, arrivals: new Map() };
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({
          id: 'posts', type: 'start',
          payload: { data: JSON.stringify({ query: SUBSCRIPTION, variables: {} }), extensions: { authorization: auth } },
        }));
      } else if (message.type === 'start_ack') {
        resolve(subscriber);
      } else if (message.type === 'data') {
        subscriber.arrivals.set(message.payload.data.onCreatePost.id, performance.now());
      } else if (message.type === 'error' || message.type === 'connection_error') {
        reject(new Error(JSON.stringify(message)));
      }
    });
  });
}

const CREATE = 'mutation ($input: CreatePostInput!) { createPost(input: $input) { id title likes } }';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(done, ms) {
  const deadline = performance.now() + ms;
  while (!done() && performance.now() < deadline) await sleep(1);
  return done();
}

async function create(number, watched) {
  const id = `bench-${process.pid}-${number}-${Math.random().toString(36).slice(2, 8)}`;
  const sent = performance.now();
  await post(CREATE, { input: { id, title: `[DEV] Benchmark post ${number}`, likes: 1 } });
  const answered = performance.now();
  const arrived = await until(() => watched.every((subscriber) => subscriber.arrivals.has(id)), 5000);
  return { id, sent, roundTrip: answered - sent, arrived };
}

const events = Number(eventCount);
// 1. latency, one subscriber
const single = await subscribe();
for (let warm = 0; warm < 5; warm += 1) await create(`warm-${warm}`, [single]);
const latency = [];
for (let number = 0; number < events; number += 1) {
  const { id, sent, roundTrip } = await create(number, [single]);
  latency.push({ roundTrip, event: single.arrivals.has(id) ? single.arrivals.get(id) - sent : null });
}
single.socket.close();

// 2. fan-out
const many = [];
for (let number = 0; number < Number(subscriberCount); number += 1) many.push(await subscribe());
const spreads = [];
const ids = [];
for (let number = 0; number < events; number += 1) {
  const { id } = await create(`fan-${number}`, many);
  ids.push(id);
  const times = many.filter((subscriber) => subscriber.arrivals.has(id)).map((subscriber) => subscriber.arrivals.get(id));
  if (times.length) spreads.push(Math.max(...times) - Math.min(...times));
}
const received = many.map((subscriber) => ids.filter((id) => subscriber.arrivals.has(id)).length);
for (const subscriber of many) subscriber.socket.close();

// 3. a JS handler's query beside the same VTL query
const GET_JS = 'query ($id: ID!) { getPostJs(id: $id) { id title likes } }';
const GET_VTL = 'query ($id: ID!) { getPost(id: $id) { id title likes } }';
const item = ids[0];
const timed = async (query) => {
  const started = performance.now();
  const data = await post(query, { id: item });
  if (Object.values(data)[0]?.id !== item) throw new Error(`${query} did not answer ${item}`);
  return performance.now() - started;
};
for (let warm = 0; warm < 10; warm += 1) await Promise.all([timed(GET_JS), timed(GET_VTL)]);
const js = [];
const vtl = [];
for (let number = 0; number < Number(queryCount); number += 1) {
  js.push(await timed(GET_JS));
  vtl.push(await timed(GET_VTL));
}
agent.destroy();
console.log(JSON.stringify({ latency, received, spreads, events, js, vtl }));
process.exit(0);
