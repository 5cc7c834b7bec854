import { util } from '@aws-appsync/utils';
import * as ddb from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  return ddb.update({
    key: { id: ctx.args.id },
    update: { title: ctx.args.title, likes: ddb.operations.increment(0), updatedAt: util.time.nowISO8601() },
    condition: { id: { attributeExists: true } },
  });
}

export function response(ctx) {
  if (ctx.error) {
    util.error(`No post ${ctx.args.id}`, 'NotFound');
  }
  return ctx.result;
}
