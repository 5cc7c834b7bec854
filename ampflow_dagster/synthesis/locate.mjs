// Finds the Node packages ampflow's synthesis runs, with Node's own module resolution from the
// app root, wherever the package manager put them (hoisted, nested, symlinked by pnpm):
// - @aws-amplify/backend: its installed version;
// - tsx and TypeScript as Amplify's deployer resolves them: from @aws-amplify/backend-deployer
//   (a dependency of @aws-amplify/backend-cli), else from the app;
// - @aws-amplify/graphql-generator as Amplify's CLI resolves it: from @aws-amplify/model-generator
//   (also under @aws-amplify/backend-cli), else from the app;
// - @aws-amplify/client-config, which writes amplify_outputs.json for Amplify's CLI: from
//   @aws-amplify/backend-cli, else from the app.
// Usage: node locate.mjs <app root>; prints JSON, a null for each package Node cannot find.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const appRoot = realpathSync(process.argv[2]);

// Node's lookup of a bare package name from a folder: the node_modules folder of it and of each
// parent, then NODE_PATH and the global folders. The package folder itself is returned (through
// any symlink), because a package's own exports may not expose its package.json.
const packageDir = (name, fromDir) => {
  if (!fromDir) return null;
  const require = createRequire(join(fromDir, 'package.json'));
  for (const folder of require.resolve.paths(name) ?? []) {
    const candidate = join(folder, name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
  }
  return null;
};

const manifest = (dir) => (dir ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) : null);

const binary = (dir, command) => {
  const bin = manifest(dir)?.bin;
  const relative = typeof bin === 'string' ? bin : bin?.[command];
  return relative ? join(dir, relative) : null;
};

const backend = packageDir('@aws-amplify/backend', appRoot);
const cli = packageDir('@aws-amplify/backend-cli', appRoot);
const deployer = packageDir('@aws-amplify/backend-deployer', cli ?? appRoot);
const modelGenerator = packageDir('@aws-amplify/model-generator', cli ?? appRoot);
const tsx = packageDir('tsx', deployer) ?? packageDir('tsx', appRoot);
const typescript = packageDir('typescript', deployer) ?? packageDir('typescript', appRoot);

process.stdout.write(
  JSON.stringify({
    backend: backend && { dir: backend, version: manifest(backend).version ?? null },
    backendCli: cli,
    tsx: binary(tsx, 'tsx'),
    tsc: binary(typescript, 'tsc'),
    graphqlGenerator: packageDir('@aws-amplify/graphql-generator', modelGenerator) ?? packageDir('@aws-amplify/graphql-generator', appRoot),
    clientConfig: packageDir('@aws-amplify/client-config', cli ?? appRoot) ?? packageDir('@aws-amplify/client-config', appRoot),
  }),
);
