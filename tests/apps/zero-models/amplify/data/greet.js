// An APPSYNC_JS resolver on the NONE data source: answers without touching any table.
export function request(ctx) {
  return { payload: { text: `Hello, ${ctx.args.name}!`, language: 'EN' } };
}

export function response(ctx) {
  return ctx.result;
}
