import { defineStorage } from '@aws-amplify/backend';

export const storage = defineStorage({
  name: 'reports',
  access: (allow) => ({
    'reports/*': [allow.authenticated.to(['read'])],
  }),
});
