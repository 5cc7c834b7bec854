import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

// Todos listed by status (an index), and notes. The preview tests' branches add a model, change the index
// and remove Note.
const schema = a.schema({
  Todo: a
    .model({
      content: a.string().required(),
      status: a.string().required(),
      owner: a.string(),
    })
    .secondaryIndexes((index) => [index('status')])
    .authorization((allow) => [allow.publicApiKey()]),
  Note: a
    .model({
      body: a.string().required(),
    })
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
