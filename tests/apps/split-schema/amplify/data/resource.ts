import { type ClientSchema, a, defineData } from '@aws-amplify/backend';
import { catalogModels } from './models/catalog';
import { supportSchema } from './models/support';

const catalogSchema = a.schema({ ...catalogModels });
const schema = a.combine([catalogSchema, supportSchema]);

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
