import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return {
    operation: 'PutItem',
    key: util.dynamodb.toMapValues({ id: util.autoId() }),
    attributeValues: util.dynamodb.toMapValues({ text: ctx.args.text, createdAt: util.time.nowISO8601() }),
  };
}

export function response(ctx) {
  return ctx.result;
}
