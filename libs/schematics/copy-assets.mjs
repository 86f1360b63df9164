// Copies what tsc does not emit into dist/: the collection, each schematic's
// schema.json and its files/ templates. Run by the root `npm run build` after
// `tsc -b`, so dist/ is the complete package.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

cpSync(join(src, 'collection.json'), join(dist, 'collection.json'));
for (const entry of readdirSync(src, { withFileTypes: true })) {
  if (!entry.isDirectory()) continue;
  const schematic = join(src, entry.name);
  const target = join(dist, relative(src, schematic));
  cpSync(join(schematic, 'schema.json'), join(target, 'schema.json'));
  // A template removed from src must not linger in dist.
  rmSync(join(target, 'files'), { recursive: true, force: true });
  cpSync(join(schematic, 'files'), join(target, 'files'), { recursive: true });
}
