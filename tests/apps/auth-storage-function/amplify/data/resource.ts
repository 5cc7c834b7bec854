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
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'userPool' },
});
