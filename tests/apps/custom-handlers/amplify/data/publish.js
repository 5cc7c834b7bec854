export function request(ctx) {
  return { payload: { room: ctx.args.room, text: ctx.args.text } };
}

export const response = (ctx) => ctx.result;
