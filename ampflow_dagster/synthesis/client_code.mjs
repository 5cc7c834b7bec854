// Generates what a client needs from a synthesized data API with Amplify's own
// @aws-amplify/graphql-generator (the copy Amplify's CLI uses, found by locate.mjs):
// - the GraphQL statements for the transformed AppSync schema;
// - when given the model schema, the model introspection, as Amplify's CLI generates it for
//   backends that do not ship it as an asset (@aws-amplify/backend-data before 1.3).
// Usage: node client_code.mjs <graphql-generator folder> <schema.graphql> [<model-schema.graphql>]
// Prints {"statements": {file: text}, "modelIntrospection": object or null} as JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [generatorDir, schemaPath, modelSchemaPath] = process.argv.slice(2);
const require = createRequire(join(generatorDir, 'package.json'));
const { generateModels, generateStatements } = require(generatorDir);

const statements = generateStatements({
  schema: readFileSync(schemaPath, 'utf8'),
  target: 'graphql',
  typenameIntrospection: true,
});
let modelIntrospection = null;
if (modelSchemaPath) {
  const generated = await generateModels({ schema: readFileSync(modelSchemaPath, 'utf8'), target: 'introspection' });
  const files = Object.values(generated);
  if (files.length !== 1) throw new Error(`Expected one model introspection file, got ${files.length}.`);
  modelIntrospection = JSON.parse(files[0]);
}
process.stdout.write(JSON.stringify({ statements, modelIntrospection }));
