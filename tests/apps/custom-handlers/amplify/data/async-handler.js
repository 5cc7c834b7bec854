// AppSync refuses async handlers at deployment; locally the field says so.
export async function request() {
  return { payload: 'too late' };
}

export const response = (ctx) => ctx.result;
