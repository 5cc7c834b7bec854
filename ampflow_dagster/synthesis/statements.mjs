// Generates the GraphQL client statements for a transformed AppSync schema with
// Amplify's own @aws-amplify/graphql-generator, resolved from the app's node_modules.
// Usage: node statements.mjs <app root> <schema.graphql>; prints {file: text} as JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [appRoot, schemaPath] = process.argv.slice(2);
const require = createRequire(join(appRoot, 'package.json'));
const { generateStatements } = require('@aws-amplify/graphql-generator');

const schema = readFileSync(schemaPath, 'utf8');
const statements = generateStatements({ schema, target: 'graphql', typenameIntrospection: true });
process.stdout.write(JSON.stringify(statements));
