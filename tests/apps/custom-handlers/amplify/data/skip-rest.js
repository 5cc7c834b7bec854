import { runtime } from '@aws-appsync/utils';

export function request() {
  runtime.earlyReturn('skipped the rest', { skipTo: 'END' });
}

export const response = (ctx) => ctx.result;
