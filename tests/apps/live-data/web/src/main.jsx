// The Amplify Gen 2 tutorial's page: the todos, live through observeQuery, and a button that creates one.
// amplify_outputs.json and amplify_configure_local.js are what `ampflow outputs development --out-dir src` wrote.
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import outputs from './amplify_outputs.json';
import { configureAmplify } from './amplify_configure_local.js';

configureAmplify(Amplify, outputs);
const client = generateClient();

function App() {
  const [todos, setTodos] = useState([]);
  const [synced, setSynced] = useState(false);
  const [content, setContent] = useState('');
  const [error, setError] = useState(null);

  useEffect(() => {
    const subscription = client.models.Todo.observeQuery().subscribe({
      next: ({ items, isSynced }) => {
        setTodos([...items].sort((a, b) => a.content.localeCompare(b.content)));
        setSynced(isSynced);
      },
      error: (failure) => setError(JSON.stringify(failure?.errors ?? String(failure))),
    });
    return () => subscription.unsubscribe();
  }, []);

  async function create(event) {
    event.preventDefault();
    const answer = await client.models.Todo.create({ content, done: false });
    if (answer.errors?.length) setError(answer.errors.map((e) => e.message).join('; '));
    setContent('');
  }

  return (
    <main>
      <h1>My todos</h1>
      <form onSubmit={create}>
        <input aria-label="New todo" value={content} onChange={(event) => setContent(event.target.value)} />
        <button type="submit">+ new</button>
      </form>
      <p data-testid="status">{synced ? 'synced' : 'loading'}</p>
      {error && <p role="alert">{error}</p>}
      <ul>
        {todos.map((todo) => (
          <li key={todo.id} data-testid="todo">{todo.content}</li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
