import { type ClientSchema, a, defineData } from '@aws-amplify/backend';
import { noteDigest } from '../functions/note-digest/resource';

const schema = a
  .schema({
    Note: a
      .model({
        title: a.string().required(),
        body: a.string(),
      })
      .authorization((allow) => [allow.publicApiKey()]),
  })
  // The function reads notes through the data API.
  .authorization((allow) => [allow.resource(noteDigest).to(['query'])]);

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
