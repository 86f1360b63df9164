// Runs one schematic of the built collection with SchematicTestRunner, in a
// plain Node process: the Angular devkit loads factories with require(), and
// @nestjs/schematics (which our collection extends) is ESM, which only Node's
// own require can load (Node >= 20.19); Jest's module registry cannot before
// Node 24.9. The specs call this through run-schematic.ts.
//
// Run in the directory the workspace is to be written to.
// stdin:  { "schematic", "options", "files": { path: text } }
// stdout: { "files": { path: text } } or { "error": { "name", "message" } }
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// The devkit is CommonJS without an exports map: require it as the CLI does.
const require = createRequire(import.meta.url);
const { SchematicTestRunner } = require('@angular-devkit/schematics/testing');
const { HostTree } = require('@angular-devkit/schematics');
const { normalize, virtualFs } = require('@angular-devkit/core');
const { NodeJsSyncHost } = require('@angular-devkit/core/node');

const collection = fileURLToPath(
  new URL('../dist/collection.json', import.meta.url),
);
const request = JSON.parse(readFileSync(0, 'utf8'));
const runner = new SchematicTestRunner('@chronicle/schematics', collection);
// The workspace is written to the working directory (a temporary one) and
// the tree reads it from there, as the CLI's tree reads the real workspace:
// an in-memory tree cannot delete folders, which sub-app does. Nothing the
// schematic does is written back.
for (const [path, text] of Object.entries(request.files)) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
const input = new HostTree(
  new virtualFs.ScopedHost(new NodeJsSyncHost(), normalize(process.cwd())),
);

let reply;
try {
  const tree = await runner.runSchematic(
    request.schematic,
    request.options,
    input,
  );
  // The workspace after the schematic: what it started with, then its actions.
  const files = { ...request.files };
  const strip = (path) => String(path).replace(/^\//, '');
  for (const action of tree.actions) {
    const path = strip(action.path);
    if (action.kind === 'c' || action.kind === 'o') {
      files[path] = action.content.toString('utf8');
    } else if (action.kind === 'd') {
      for (const file of Object.keys(files)) {
        if (file === path || file.startsWith(`${path}/`)) delete files[file];
      }
    } else if (action.kind === 'r') {
      files[strip(action.to)] = files[path];
      delete files[path];
    }
  }
  reply = { files };
} catch (error) {
  reply = {
    error: { name: error.constructor.name, message: error.message },
  };
}
process.stdout.write(JSON.stringify(reply));
