// A signed-in page over an owner-rule model: each user sees their own journals, live through
// observeQuery, behind Amplify UI's <Authenticator> (SRP against the environment's user pool).
// amplify_outputs.json and amplify_configure_local.js are what `ampflow outputs development --out-dir src` wrote.
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { Authenticator } from '@aws-amplify/ui-react';
import '@aws-amplify/ui-react/styles.css';
import outputs from './amplify_outputs.json';
import { configureAmplify } from './amplify_configure_local.js';

configureAmplify(Amplify, outputs);
const client = generateClient();

function Journals({ user, signOut }) {
  const [journals, setJournals] = useState([]);
  const [synced, setSynced] = useState(false);
  const [title, setTitle] = useState('');
  const [error, setError] = useState(null);

  useEffect(() => {
    const subscription = client.models.Journal.observeQuery().subscribe({
      next: ({ items, isSynced }) => {
        setJournals([...items].sort((a, b) => a.title.localeCompare(b.title)));
        setSynced(isSynced);
      },
      error: (failure) => setError(JSON.stringify(failure?.errors ?? String(failure))),
    });
    return () => subscription.unsubscribe();
  }, []);

  async function create(event) {
    event.preventDefault();
    const answer = await client.models.Journal.create({ title });
    if (answer.errors?.length) setError(answer.errors.map((e) => e.message).join('; '));
    setTitle('');
  }

  return (
    <main>
      <h1>{user.signInDetails?.loginId}'s journals</h1>
      <button onClick={signOut}>Sign out</button>
      <form onSubmit={create}>
        <input aria-label="New journal" value={title} onChange={(event) => setTitle(event.target.value)} />
        <button type="submit">+ new</button>
      </form>
      <p data-testid="status">{synced ? 'synced' : 'loading'}</p>
      {error && <p role="alert">{error}</p>}
      <ul>
        {journals.map((journal) => (
          <li key={journal.id} data-testid="journal">{journal.title}</li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root')).render(
  <Authenticator hideSignUp>{({ user, signOut }) => <Journals user={user} signOut={signOut} />}</Authenticator>,
);
