import { defineFunction } from '@aws-amplify/backend';

export const makeReport = defineFunction({ name: 'make-report', entry: './handler.ts', resourceGroupName: 'data' });
