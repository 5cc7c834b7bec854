// A loop that never ends, as a bug would write it.
export function request() {
  let turns = 0;
  while (turns >= 0) turns += 1;
  return { payload: String(turns) };
}

export const response = (ctx) => ctx.result;
