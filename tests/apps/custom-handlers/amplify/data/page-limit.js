// A bug as an app might ship one: `options` is not an argument of the query.
export function request(ctx) {
  const { limit } = ctx.args.options;
  return { payload: limit };
}

export const response = (ctx) => ctx.result;
