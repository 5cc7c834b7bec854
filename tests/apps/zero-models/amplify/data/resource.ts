import { type ClientSchema, a, defineData } from '@aws-amplify/backend';
import { echo } from '../functions/echo/resource';

// No a.model(): custom types and operations only, so the API owns no table.
const schema = a.schema({
  Language: a.enum(['EN', 'FR']),
  EchoResponse: a.customType({
    content: a.string().required(),
    executionDuration: a.float(),
  }),
  Greeting: a.customType({
    text: a.string().required(),
    language: a.ref('Language'),
  }),
  echo: a
    .query()
    .arguments({ content: a.string().required() })
    .returns(a.ref('EchoResponse'))
    .handler(a.handler.function(echo))
    .authorization((allow) => [allow.publicApiKey()]),
  greet: a
    .mutation()
    .arguments({ name: a.string().required() })
    .returns(a.ref('Greeting'))
    .handler(a.handler.custom({ entry: './greet.js' }))
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
