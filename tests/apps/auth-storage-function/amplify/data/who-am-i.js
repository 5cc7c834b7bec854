export function request(ctx) {
  const { username, sub, issuer } = ctx.identity;
  return { payload: { username, sub, issuer } };
}

export const response = (ctx) => ctx.result;
