import { defineBackend } from '@aws-amplify/backend';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Definition, GraphqlApi, SchemaFile } from 'aws-cdk-lib/aws-appsync';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { fileURLToPath } from 'node:url';
import { data } from './data/resource';

const backend = defineBackend({ data });

// A custom stack of the backend: nested in its root stack, deployed with it. Its AppSync API
// and table are the app's own, not Amplify Data's.
const custom = backend.createStack('custom');
new Topic(custom, 'OrderEvents');
const auditLog = new Table(custom, 'AuditLog', {
  partitionKey: { name: 'pk', type: AttributeType.STRING },
  billingMode: BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.DESTROY,
});
const auditApi = new GraphqlApi(custom, 'AuditApi', {
  name: 'audit',
  definition: Definition.fromSchema(SchemaFile.fromAsset(fileURLToPath(new URL('./custom/audit.graphql', import.meta.url)))),
});
auditApi.addDynamoDbDataSource('AuditLogSource', auditLog);

// A plain CDK stack of the same CDK app: a second root stack that ampx deploys beside the backend.
const app = Stack.of(backend.data).node.root as App;
const jobs = new Stack(app, 'ExtraStacksJobs');
new Queue(jobs, 'FulfilmentQueue', { visibilityTimeout: Duration.seconds(60) });
