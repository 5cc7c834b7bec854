import { defineBackend } from '@aws-amplify/backend';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { RemovalPolicy } from 'aws-cdk-lib';
import { data } from './data/resource';

const backend = defineBackend({ data });

// A table of the app's own, outside Amplify Data, read and written by JS handlers.
const notesStack = backend.createStack('NotesStack');
const notes = new Table(notesStack, 'Notes', {
  partitionKey: { name: 'id', type: AttributeType.STRING },
  billingMode: BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.DESTROY,
});
backend.data.addDynamoDbDataSource('NotesDataSource', notes);
