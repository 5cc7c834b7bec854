import type { Schema } from '../../data/resource';

export const handler: Schema['echo']['functionHandler'] = async (event) => {
  const started = Date.now();
  return { content: event.arguments.content, executionDuration: (Date.now() - started) / 1000 };
};
