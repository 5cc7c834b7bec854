import { defineFunction } from '@aws-amplify/backend';

export const noteDigest = defineFunction({
  name: 'note-digest',
  entry: './handler.ts',
  environment: { DIGEST_TITLE: 'Notes this week' },
});
