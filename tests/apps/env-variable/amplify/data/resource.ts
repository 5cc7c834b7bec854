import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

const schema = a.schema({
  Job: a
    .model({
      name: a.string().required(),
      status: a.enum(['QUEUED', 'RUNNING', 'DONE']),
    })
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
