// A page on a.handler.custom handlers only: a room's messages, live through the custom subscription
// `receive` (fed by the `publish` mutation on no data source), and the posts read and liked through
// JS handlers on the Post table. amplify_outputs.json and amplify_configure_local.js are what
// `ampflow outputs development --out-dir src` wrote.
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Amplify } from 'aws-amplify';
import { CONNECTION_STATE_CHANGE, ConnectionState, generateClient } from 'aws-amplify/data';
import { Hub } from 'aws-amplify/utils';
import outputs from './amplify_outputs.json';
import { configureAmplify } from './amplify_configure_local.js';

configureAmplify(Amplify, outputs);
const client = generateClient();
const room = new URLSearchParams(window.location.search).get('room') ?? 'team-red';
const POSTS = ['post-hello', 'post-quiet'];

function App() {
  const [messages, setMessages] = useState([]);
  const [listening, setListening] = useState(false);
  const [text, setText] = useState('');
  const [summaries, setSummaries] = useState({});
  const [error, setError] = useState(null);
  const fail = (errors) => setError(errors.map((e) => e.message ?? String(e)).join('; '));

  useEffect(() => {
    // the client says on Hub when its subscriptions are acknowledged and live
    const stopListening = Hub.listen('api', ({ payload }) => {
      if (payload.event === CONNECTION_STATE_CHANGE) setListening(payload.data.connectionState === ConnectionState.Connected);
    });
    const subscription = client.subscriptions.receive({ roomPrefix: 'team-' }).subscribe({
      next: (message) => setMessages((shown) => [...shown, message]),
      error: (failure) => fail(failure?.errors ?? [failure]),
    });
    return () => {
      subscription.unsubscribe();
      stopListening();
    };
  }, []);

  async function summarize() {
    const entries = await Promise.all(POSTS.map(async (id) => {
      const answer = await client.queries.postSummary({ id });
      if (answer.errors?.length) fail(answer.errors);
      return [id, answer.data];
    }));
    setSummaries(Object.fromEntries(entries));
  }

  useEffect(() => {
    summarize();
  }, []);

  async function send(event) {
    event.preventDefault();
    const answer = await client.mutations.publish({ room, text });
    if (answer.errors?.length) fail(answer.errors);
    setText('');
  }

  async function like(id) {
    const answer = await client.mutations.likePost({ postId: id });
    if (answer.errors?.length) fail(answer.errors);
    await summarize();
  }

  return (
    <main>
      <h1>Room {room}</h1>
      <p data-testid="status">{listening ? 'listening' : 'connecting'}</p>
      <form onSubmit={send}>
        <input aria-label="Message" value={text} onChange={(event) => setText(event.target.value)} />
        <button type="submit">send</button>
      </form>
      {error && <p role="alert">{error}</p>}
      <ul>
        {messages.map((message, index) => (
          <li key={index} data-testid="message">{message.room}: {message.text}</li>
        ))}
      </ul>
      <h2>Posts</h2>
      <ul>
        {POSTS.map((id) => (
          <li key={id}>
            <span data-testid="summary">{summaries[id] ?? '…'}</span>{' '}
            <button type="button" onClick={() => like(id)} aria-label={`like ${id}`}>like</button>
          </li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
