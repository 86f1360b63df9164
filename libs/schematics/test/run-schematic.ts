import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('./run-schematic.mjs', import.meta.url));

/** A workspace as files: path (from the workspace root) to text. */
export type Files = Record<string, string>;

export type SchematicOutcome =
  | { readonly files: Files; readonly error?: undefined }
  | {
      readonly files?: undefined;
      readonly error: { readonly name: string; readonly message: string };
    };

/**
 * Runs a schematic of the built collection (`npm run build` first) on these
 * files, in a child Node process (see run-schematic.mjs for why), and returns
 * the resulting workspace or the error it threw.
 */
export function runSchematic(
  schematic: string,
  options: Record<string, unknown>,
  files: Files,
): SchematicOutcome {
  // The workspace goes on disk there (sub-app also reads ./package.json).
  const cwd = mkdtempSync(join(tmpdir(), 'chronicle-schematic-'));
  try {
    return JSON.parse(
      execFileSync(process.execPath, [RUNNER], {
        cwd,
        input: JSON.stringify({ schematic, options, files }),
        encoding: 'utf8',
        // Run as the Nest CLI does, outside Jest's environment (sub-app skips
        // moving the default app when NODE_ENV is "test").
        env: { ...process.env, NODE_ENV: 'production' },
        maxBuffer: 64 * 1024 * 1024,
      }),
    ) as SchematicOutcome;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The files of a schematic run that must succeed. */
export function generate(
  schematic: string,
  options: Record<string, unknown>,
  files: Files,
): Files {
  const outcome = runSchematic(schematic, options, files);
  if (outcome.error) {
    throw new Error(
      `${schematic} failed: ${outcome.error.name}: ${outcome.error.message}`,
    );
  }
  return outcome.files;
}

/** The files added or changed by a run, relative to what it started from. */
export function changed(before: Files, after: Files): string[] {
  return Object.keys(after)
    .filter((path) => before[path] !== after[path])
    .sort();
}
