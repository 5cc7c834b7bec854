import { defineBackend } from '@aws-amplify/backend';
import { auth } from './auth/resource';
import { data } from './data/resource';
import { onUpload } from './functions/on-upload/resource';
import { storage } from './storage/resource';

defineBackend({ auth, data, storage, onUpload });
