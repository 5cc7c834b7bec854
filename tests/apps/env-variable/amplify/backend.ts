import { defineBackend } from '@aws-amplify/backend';
import { data } from './data/resource';

// The jobs queue lives outside this backend; each environment passes its own URL.
const queueUrl = process.env.QUEUE_URL;
if (!queueUrl) {
  throw new Error('QUEUE_URL is not set: export the URL of the jobs queue before synthesizing this backend.');
}

const backend = defineBackend({ data });
backend.addOutput({ custom: { queueUrl } });
