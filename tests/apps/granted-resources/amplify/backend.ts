import { defineBackend } from '@aws-amplify/backend';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { auth } from './auth/resource';
import { data } from './data/resource';
import { storage } from './storage/resource';
import { createUser } from './functions/create-user/resource';
import { makeReport } from './functions/make-report/resource';

const backend = defineBackend({ auth, data, storage, createUser, makeReport });
const bucket = backend.storage.resources.bucket;

// A function in the data stack granted write on the bucket, told its name.
bucket.grantWrite(backend.makeReport.resources.lambda);
backend.makeReport.addEnvironment('REPORT_BUCKET', bucket.bucketName);

// A function with a policy on the user pool's ARN.
backend.createUser.resources.lambda.addToRolePolicy(
  new PolicyStatement({
    actions: ['cognito-idp:AdminCreateUser', 'cognito-idp:AdminAddUserToGroup'],
    resources: [backend.auth.resources.userPool.userPoolArn],
  }),
);

// The signed-in users' role granted the bucket directly.
bucket.grantReadWrite(backend.auth.resources.authenticatedUserIamRole);
