import { type ClientSchema, a, defineData } from '@aws-amplify/backend';
import { createUser } from '../functions/create-user/resource';
import { makeReport } from '../functions/make-report/resource';

const schema = a.schema({
  Book: a
    .model({
      title: a.string().required(),
      options: a.hasMany('BookOption', 'bookId'),
      reviews: a.hasMany('Review', 'bookId'),
    })
    .authorization((allow) => [allow.publicApiKey(), allow.owner()]),
  BookOption: a
    .model({
      bookId: a.id().required(),
      book: a.belongsTo('Book', 'bookId'),
      label: a.string().required(),
      notes: a.string(),
    })
    .authorization((allow) => [allow.publicApiKey()]),
  // Its only field safe to carry the environment's prefix is optional.
  Review: a
    .model({
      bookId: a.id().required(),
      book: a.belongsTo('Book', 'bookId'),
      rating: a.integer().required(),
      comment: a.string(),
    })
    .authorization((allow) => [allow.publicApiKey()]),
  createUser: a
    .mutation()
    .arguments({ email: a.string().required() })
    .returns(a.string())
    .handler(a.handler.function(createUser))
    .authorization((allow) => [allow.publicApiKey()]),
  makeReport: a
    .query()
    .arguments({ bookId: a.id().required() })
    .returns(a.string())
    .handler(a.handler.function(makeReport))
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
