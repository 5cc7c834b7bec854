import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

// The model every Amplify Gen 2 tutorial starts with, readable and writable with the API key.
const schema = a.schema({
  Todo: a
    .model({
      content: a.string().required(),
      done: a.boolean(),
    })
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
