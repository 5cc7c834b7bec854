import { defineStorage } from '@aws-amplify/backend';
import { onUpload } from '../functions/on-upload/resource';

export const storage = defineStorage({
  name: 'attachments',
  access: (allow) => ({
    'attachments/{entity_id}/*': [allow.entity('identity').to(['read', 'write', 'delete'])],
  }),
  triggers: { onUpload },
});
