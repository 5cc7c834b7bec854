import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

const schema = a.schema({
  Order: a
    .model({
      reference: a.string().required(),
      total: a.float(),
      lines: a.hasMany('OrderLine', 'orderId'),
    })
    .authorization((allow) => [allow.publicApiKey()]),
  OrderLine: a
    .model({
      orderId: a.id().required(),
      order: a.belongsTo('Order', 'orderId'),
      sku: a.string().required(),
      quantity: a.integer(),
    })
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
