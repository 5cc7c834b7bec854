import { defineFunction } from '@aws-amplify/backend';

// In the data stack, as apps do to avoid a circular dependency between the function and data stacks.
export const createUser = defineFunction({ name: 'create-user', entry: './handler.ts', resourceGroupName: 'data' });
