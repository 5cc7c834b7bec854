// Generates what a client needs from a synthesized backend with Amplify's own packages (the copies
// Amplify's CLI uses, found by locate.mjs):
// - with @aws-amplify/graphql-generator, the GraphQL statements for the transformed AppSync schema,
//   and, when given the model schema, the model introspection, as Amplify's CLI generates it for
//   backends that do not ship it as an asset (@aws-amplify/backend-data before 1.3);
// - with @aws-amplify/client-config, amplify_outputs.json from the backend's stack outputs, as
//   `ampx generate outputs` writes it (at the version the app's Amplify writes by default).
// Usage: node client_code.mjs, with the request as JSON on stdin:
//   {"graphqlGenerator", "schema", "modelSchema", "modelIntrospection", "clientConfig", "backendOutput"}
// (any may be null). Prints {"statements", "modelIntrospection", "outputs"} as JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const request = JSON.parse(readFileSync(0, 'utf8'));
let statements = {};
let modelIntrospection = request.modelIntrospection ?? null;

if (request.schema) {
  const require = createRequire(join(request.graphqlGenerator, 'package.json'));
  const { generateModels, generateStatements } = require(request.graphqlGenerator);
  statements = generateStatements({
    schema: readFileSync(request.schema, 'utf8'),
    target: 'graphql',
    typenameIntrospection: true,
  });
  if (request.modelSchema) {
    const generated = await generateModels({ schema: readFileSync(request.modelSchema, 'utf8'), target: 'introspection' });
    const files = Object.values(generated);
    if (files.length !== 1) throw new Error(`Expected one model introspection file, got ${files.length}.`);
    modelIntrospection = JSON.parse(files[0]);
  }
}

let outputs = null;
if (request.clientConfig && request.backendOutput) {
  // The generator Amplify's CLI builds from deployed stack outputs, given them directly; the model
  // introspection comes from synthesis instead of the codegen bucket.
  const lib = join(request.clientConfig, 'lib');
  const load = (file) => import(pathToFileURL(join(lib, file)).href);
  const { ClientConfigGeneratorFactory } = await load('client_config_generator_factory.js');
  const { DEFAULT_CLIENT_CONFIG_VERSION } = await load(join('client-config-types', 'client_config.js'));
  const adapter = { getModelIntrospectionSchemaFromS3Uri: async () => modelIntrospection ?? undefined };
  const generator = new ClientConfigGeneratorFactory(async () => request.backendOutput).getInstance(adapter, DEFAULT_CLIENT_CONFIG_VERSION);
  outputs = await generator.generateClientConfig();
}
process.stdout.write(JSON.stringify({ statements, modelIntrospection, outputs }));
