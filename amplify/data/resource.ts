import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

/*
 * The sample app's data model. It is deliberately broad, so ampflow's synthesis,
 * verification and seeding meet every shape a real Gen 2 schema has:
 * default `id` keys, a composite identifier, a secondary index with a sort key,
 * hasMany/belongsTo, hasOne, enums, required fields and JSON.
 */
const schema = a.schema({
  Priority: a.enum(['LOW', 'MEDIUM', 'HIGH']),
  TaskStatus: a.enum(['TODO', 'IN_PROGRESS', 'DONE']),

  Todo: a
    .model({
      content: a.string().required(),
      done: a.boolean().default(false),
      priority: a.ref('Priority'),
    })
    .authorization((allow) => [allow.publicApiKey()]),

  Project: a
    .model({
      name: a.string().required(),
      description: a.string(),
      ownerEmail: a.email().required(),
      homepage: a.url(),
      settings: a.json(),
      tasks: a.hasMany('Task', 'projectId'),
      charter: a.hasOne('ProjectCharter', 'projectId'),
    })
    .authorization((allow) => [allow.publicApiKey()]),

  Task: a
    .model({
      title: a.string().required(),
      status: a.ref('TaskStatus').required(),
      dueDate: a.date(),
      estimateHours: a.float(),
      labels: a.string().array(),
      projectId: a.id().required(),
      project: a.belongsTo('Project', 'projectId'),
    })
    .secondaryIndexes((index) => [index('status').sortKeys(['dueDate']).queryField('tasksByStatus')])
    .authorization((allow) => [allow.publicApiKey()]),

  ProjectCharter: a
    .model({
      summary: a.string().required(),
      approvedAt: a.datetime(),
      sponsorPhone: a.phone(),
      projectId: a.id().required(),
      project: a.belongsTo('Project', 'projectId'),
    })
    .authorization((allow) => [allow.publicApiKey()]),

  InventoryItem: a
    .model({
      warehouseId: a.string().required(),
      sku: a.string().required(),
      batch: a.string().required(),
      name: a.string().required(),
      quantity: a.integer().required(),
      lastCountedAt: a.datetime(),
    })
    .identifier(['warehouseId', 'sku', 'batch'])
    .secondaryIndexes((index) => [index('sku').sortKeys(['warehouseId']).queryField('inventoryBySku')])
    .authorization((allow) => [allow.publicApiKey()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: {
    defaultAuthorizationMode: 'apiKey',
    apiKeyAuthorizationMode: { expiresInDays: 30 },
  },
});
