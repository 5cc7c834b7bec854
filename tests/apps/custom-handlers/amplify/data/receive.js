import { util, extensions } from '@aws-appsync/utils';

export function request() {
  return {};
}

export const response = (ctx) => {
  if (ctx.args.roomPrefix) {
    extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter({ room: { beginsWith: ctx.args.roomPrefix } }));
  }
  return null;
};
