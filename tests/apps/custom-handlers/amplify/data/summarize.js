import { util, runtime } from '@aws-appsync/utils';

export function request(ctx) {
  const post = ctx.prev.result;
  if (!post) {
    util.error(`No post ${ctx.args.id}`, 'NotFound');
  }
  ctx.stash.likes = post.likes ?? 0;
  if (ctx.stash.likes === 0) {
    runtime.earlyReturn(`${post.title} (no likes yet)`);
  }
  return { payload: post.title };
}

export function response(ctx) {
  return `${ctx.result} (${ctx.stash.likes} likes)`;
}
