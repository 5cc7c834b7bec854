import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

const schema = a.schema({
  Board: a
    .model({
      name: a.string().required(),
      cards: a.hasMany('Card', 'boardId'),
    })
    .authorization((allow) => [allow.publicApiKey()]),
  Card: a
    .model({
      boardId: a.id().required(),
      board: a.belongsTo('Board', 'boardId'),
      column: a.string().required(),
      position: a.integer().required(),
      note: a.string(),
    })
    .secondaryIndexes((index) => [index('column').sortKeys(['position'])])
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
