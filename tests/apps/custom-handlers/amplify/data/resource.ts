import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

// a.handler.custom (APPSYNC_JS) handlers as Amplify's docs write them: on a model's table, on a
// table of the app's own CDK stack, on no data source (the custom real-time pattern), and a
// pipeline of two.
const schema = a.schema({
  Post: a
    .model({
      title: a.string().required(),
      likes: a.integer(),
    })
    .authorization((allow) => [allow.publicApiKey()]),

  // "Add custom queries and mutations": a raw UpdateItem request built with util.dynamodb
  likePost: a
    .mutation()
    .arguments({ postId: a.id().required() })
    .returns(a.ref('Post'))
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ dataSource: a.ref('Post'), entry: './increment-like.js' })),

  // the same table through the @aws-appsync/utils/dynamodb helpers
  getPostJs: a
    .query()
    .arguments({ id: a.id().required() })
    .returns(a.ref('Post'))
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ dataSource: a.ref('Post'), entry: './get-post.js' })),
  popularPosts: a
    .query()
    .arguments({ minLikes: a.integer().required() })
    .returns(a.ref('Post').array())
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ dataSource: a.ref('Post'), entry: './popular-posts.js' })),
  renamePost: a
    .mutation()
    .arguments({ id: a.id().required(), title: a.string().required() })
    .returns(a.ref('Post'))
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ dataSource: a.ref('Post'), entry: './rename-post.js' })),

  // a pipeline of two handlers: stash, ctx.prev.result, runtime.earlyReturn and util.error
  postSummary: a
    .query()
    .arguments({ id: a.id().required() })
    .returns(a.string())
    .authorization((allow) => [allow.publicApiKey()])
    .handler([
      a.handler.custom({ dataSource: a.ref('Post'), entry: './get-post.js' }),
      a.handler.custom({ entry: './summarize.js' }),
    ]),

  // a handler with a bug: the field fails with the file and line
  pageLimit: a
    .query()
    .returns(a.integer())
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ entry: './page-limit.js' })),

  // what AppSync's JS runtime does not allow or keep: a Promise, a loop that never ends, module state
  asyncHandler: a
    .query()
    .returns(a.string())
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ entry: './async-handler.js' })),
  spin: a
    .query()
    .returns(a.string())
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ entry: './spin.js' })),
  callCount: a
    .query()
    .returns(a.integer())
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ entry: './call-count.js' })),
  // runtime.earlyReturn(value, { skipTo: 'END' }): the functions after it never run
  skipRest: a
    .query()
    .returns(a.string())
    .authorization((allow) => [allow.publicApiKey()])
    .handler([a.handler.custom({ entry: './skip-rest.js' }), a.handler.custom({ entry: './page-limit.js' })]),

  // "Connect to external Amazon DynamoDB data sources": the app's own table
  Note: a.customType({ id: a.id().required(), text: a.string().required(), createdAt: a.string() }),
  addNote: a
    .mutation()
    .arguments({ text: a.string().required() })
    .returns(a.ref('Note'))
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ dataSource: 'NotesDataSource', entry: './add-note.js' })),
  getNote: a
    .query()
    .arguments({ id: a.id().required() })
    .returns(a.ref('Note'))
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ dataSource: 'NotesDataSource', entry: './get-note.js' })),

  // "Add custom real-time subscriptions": a publish mutation on no data source, and its subscription
  Message: a.customType({ room: a.string().required(), text: a.string().required() }),
  publish: a
    .mutation()
    .arguments({ room: a.string().required(), text: a.string().required() })
    .returns(a.ref('Message'))
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ entry: './publish.js' })),
  receive: a
    .subscription()
    .for(a.ref('publish'))
    .arguments({ roomPrefix: a.string() })
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.custom({ entry: './receive.js' })),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
