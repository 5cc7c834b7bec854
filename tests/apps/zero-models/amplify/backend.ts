import { defineBackend } from '@aws-amplify/backend';
import { data } from './data/resource';
import { echo } from './functions/echo/resource';

defineBackend({ data, echo });
