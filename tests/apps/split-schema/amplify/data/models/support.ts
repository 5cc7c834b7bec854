import { a } from '@aws-amplify/backend';

// A second, independent schema; a.combine joins it with the catalog.
export const supportSchema = a.schema({
  Ticket: a
    .model({
      subject: a.string().required(),
      openedAt: a.datetime().required(),
      customerEmail: a.email().required(),
    })
    .secondaryIndexes((index) => [index('customerEmail').sortKeys(['openedAt'])])
    .authorization((allow) => [allow.publicApiKey()]),
});
