import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

const schema = a.schema({
  Journal: a
    .model({
      title: a.string().required(),
      entries: a.hasMany('JournalEntry', 'journalId'),
    })
    .authorization((allow) => [allow.owner()]),
  JournalEntry: a
    .model({
      journalId: a.id().required(),
      journal: a.belongsTo('Journal', 'journalId'),
      text: a.string().required(),
      attachmentKey: a.string(),
    })
    .authorization((allow) => [allow.owner()]),
  // A reading per device, time and kind: a composite identifier, readable by every signed-in user.
  SensorReading: a
    .model({
      deviceId: a.id().required(),
      takenAt: a.datetime().required(),
      kind: a.string().required(),
      value: a.float().required(),
    })
    .identifier(['deviceId', 'takenAt', 'kind'])
    .authorization((allow) => [allow.owner(), allow.authenticated().to(['read'])]),
  // a JS handler (a.handler.custom, no data source) that reads who signed in: ctx.identity
  Caller: a.customType({ username: a.string(), sub: a.string(), issuer: a.string() }),
  whoAmI: a
    .query()
    .returns(a.ref('Caller'))
    .authorization((allow) => [allow.authenticated()])
    .handler(a.handler.custom({ entry: './who-am-i.js' })),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'userPool' },
});
