import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

const schema = a
  .schema({
    // A task points at its current stage; each stage points back at its task (optional one way).
    Task: a.model({
      title: a.string().required(),
      currentStageId: a.id(),
      currentStage: a.belongsTo('TaskStage', 'currentStageId'),
      stages: a.hasMany('TaskStage', 'taskId'),
      comments: a.hasMany('Comment', 'taskId'),
    }),
    TaskStage: a.model({
      name: a.string().required(),
      taskId: a.id().required(),
      task: a.belongsTo('Task', 'taskId'),
      currentOf: a.hasOne('Task', 'currentStageId'),
    }),
    // A score names its champion version; every version belongs to a score.
    Score: a.model({
      name: a.string().required(),
      championVersionId: a.id(),
      champion: a.belongsTo('ScoreVersion', 'championVersionId'),
      versions: a.hasMany('ScoreVersion', 'scoreId'),
    }),
    ScoreVersion: a.model({
      label: a.string(),
      scoreId: a.id().required(),
      score: a.belongsTo('Score', 'scoreId'),
      championOf: a.hasOne('Score', 'championVersionId'),
    }),
    // Required both ways: neither can be created before the other.
    Ledger: a.model({
      name: a.string().required(),
      auditId: a.id().required(),
      audit: a.belongsTo('Audit', 'auditId'),
      audits: a.hasMany('Audit', 'ledgerId'),
    }),
    Audit: a.model({
      title: a.string().required(),
      ledgerId: a.id().required(),
      ledger: a.belongsTo('Ledger', 'ledgerId'),
      auditOf: a.hasOne('Ledger', 'auditId'),
      notes: a.hasMany('AuditNote', 'auditId'),
    }),
    AuditNote: a.model({
      body: a.string(),
      auditId: a.id().required(),
      audit: a.belongsTo('Audit', 'auditId'),
    }),
    Category: a.model({
      name: a.string().required(),
      parentId: a.id(),
      parent: a.belongsTo('Category', 'parentId'),
      children: a.hasMany('Category', 'parentId'),
    }),
    Comment: a.model({
      content: a.string(),
      taskId: a.id(),
      task: a.belongsTo('Task', 'taskId'),
    }),
    Project: a.model({ name: a.string().required(), milestones: a.hasMany('Milestone', 'projectId') }),
    Milestone: a.model({
      title: a.string().required(),
      dueOn: a.date().required(),
      projectId: a.id().required(),
      project: a.belongsTo('Project', 'projectId'),
    }),
    Team: a.model({ name: a.string().required(), members: a.hasMany('Member', 'teamId') }),
    Member: a.model({
      name: a.string().required(),
      email: a.email().required(),
      teamId: a.id().required(),
      team: a.belongsTo('Team', 'teamId'),
    }),
    Vendor: a.model({ name: a.string().required(), invoices: a.hasMany('Invoice', 'vendorId') }),
    Invoice: a.model({
      title: a.string(),
      vendorId: a.id().required(),
      vendor: a.belongsTo('Vendor', 'vendorId'),
      lines: a.hasMany('InvoiceLine', 'invoiceId'),
    }),
    InvoiceLine: a
      .model({
        invoiceId: a.id().required(),
        lineNumber: a.integer().required(),
        description: a.string(),
        invoice: a.belongsTo('Invoice', 'invoiceId'),
      })
      .identifier(['invoiceId', 'lineNumber']),
    Author: a.model({ name: a.string().required(), books: a.hasMany('Book', 'authorId') }),
    Book: a.model({
      title: a.string().required(),
      authorId: a.id().required(),
      author: a.belongsTo('Author', 'authorId'),
    }),
    Country: a.model({ name: a.string().required(), cities: a.hasMany('City', 'countryId') }),
    City: a.model({
      name: a.string().required(),
      countryId: a.id().required(),
      country: a.belongsTo('Country', 'countryId'),
    }),
    Tag: a.model({ name: a.string().required() }),
    Setting: a.model({ title: a.string(), enabled: a.boolean().required() }),
  })
  .authorization((allow) => [allow.publicApiKey()]);

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
