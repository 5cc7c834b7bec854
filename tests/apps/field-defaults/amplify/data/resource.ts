import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

/*
 * Fields with defaults of every kind Amplify's create resolver fills, and an index whose
 * composite sort key (`status#createdAt`) is made of a defaulted field and a timestamp.
 */
const schema = a.schema({
  Article: a
    .model({
      category: a.string().required(),
      title: a.string().required(),
      status: a.string().required().default('draft'),
      views: a.integer().default(0),
      rating: a.float().default(2.5),
      featured: a.boolean().default(false),
      publishedOn: a.date().default('2026-01-01'),
      layout: a.json().default('[1,2]'),
      createdAt: a.datetime(),
    })
    .secondaryIndexes((index) => [index('category').sortKeys(['status', 'createdAt']).queryField('articlesByCategory')])
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
