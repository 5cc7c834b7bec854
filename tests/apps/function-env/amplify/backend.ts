import { defineBackend } from '@aws-amplify/backend';
import { data } from './data/resource';
import { noteDigest } from './functions/note-digest/resource';

defineBackend({ data, noteDigest });
