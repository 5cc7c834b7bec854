import { defineBackend } from '@aws-amplify/backend';
import { data } from './data/resource';

const backend = defineBackend({ data });

// Projects are the data a team cannot re-create by hand: keep point-in-time recovery on.
const { amplifyDynamoDbTables } = backend.data.resources.cfnResources;
amplifyDynamoDbTables['Project'].pointInTimeRecoveryEnabled = true;
