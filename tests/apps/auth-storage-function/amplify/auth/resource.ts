import { defineAuth } from '@aws-amplify/backend';

export const auth = defineAuth({
  loginWith: { email: true },
  userAttributes: {
    givenName: { required: false, mutable: true },
    'custom:plan': { dataType: 'String', mutable: true, maxLen: 16 },
  },
  groups: ['ADMINS', 'EDITORS'],
});
