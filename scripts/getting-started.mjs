#!/usr/bin/env node
// Runs docs/getting-started.md as a newcomer would, so the guide cannot go
// stale: in a fresh temporary directory, every ```sh block in order, in one
// shell session (a `cd` or a variable carries over, as in a terminal), and
// every code block preceded by `<!-- file: PATH -->` written to PATH (relative
// to the shell's directory at that point). `<!-- output contains: TEXT -->`
// lines are checked against everything the guide printed. ```console blocks
// are shown, not run.
//
// First `npm run pack:libs` packs this checkout; CHRONICLE_PACKAGES points the
// guide's install at the tarballs. Needs the network for npm installs, and
// PostgreSQL and NATS at the guide's addresses. Any failing command fails the
// run (bash -e); so does a run longer than the time limit.
//
// Usage: node scripts/getting-started.mjs [--keep]   (--keep: leave the directory)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const guidePath = join(repo, 'docs/getting-started.md');
const TIME_LIMIT_MS = 20 * 60 * 1000;
const keep = process.argv.includes('--keep');

/** The guide's steps, in order: shell blocks, files, and output expectations. */
export function parseGuide(markdown) {
  const lines = markdown.split('\n');
  const steps = [];
  const expectations = [];
  let pendingFile;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const file = /^<!-- file: (\S+) -->$/.exec(line);
    if (file) {
      pendingFile = { path: file[1], line: i + 1 };
      continue;
    }
    const output = /^<!-- output contains: (.+) -->$/.exec(line);
    if (output) {
      expectations.push(output[1]);
      continue;
    }
    const fence = /^```(\w*)\s*$/.exec(line);
    if (!fence) {
      if (pendingFile && line.trim() !== '') {
        throw new Error(
          `getting-started.md:${pendingFile.line}: a file marker must be followed by a code block`,
        );
      }
      continue;
    }
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (end === lines.length) {
      throw new Error(`getting-started.md:${i + 1}: unclosed code block`);
    }
    const body = lines.slice(start, end).join('\n');
    if (pendingFile) {
      steps.push({ kind: 'file', path: pendingFile.path, body, line: i + 1 });
      pendingFile = undefined;
    } else if (fence[1] === 'sh') {
      steps.push({ kind: 'sh', body, line: i + 1 });
    }
    i = end;
  }
  return { steps, expectations };
}

/** One bash script for the whole guide: each step announced, then run. */
function toShellScript(steps) {
  const quote = (text) => `'${text.replaceAll("'", `'\\''`)}'`;
  const parts = ['set -euo pipefail'];
  for (const step of steps) {
    const where = `getting-started.md:${step.line}`;
    if (step.kind === 'file') {
      const marker = 'CHRONICLE_GUIDE_FILE';
      if (step.body.split('\n').includes(marker)) {
        throw new Error(`${where}: the file contains the line ${marker}`);
      }
      parts.push(
        `printf '\\n### %s: write %s\\n' ${quote(where)} ${quote(step.path)}`,
        `mkdir -p "$(dirname ${quote(step.path)})"`,
        `cat > ${quote(step.path)} <<'${marker}'\n${step.body}\n${marker}`,
      );
    } else {
      parts.push(
        `printf '\\n### %s\\n%s\\n' ${quote(where)} ${quote(step.body.replace(/^/gm, '$ '))}`,
        step.body,
      );
    }
  }
  return `${parts.join('\n')}\n`;
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status})`);
  }
}

async function main() {
  const { steps, expectations } = parseGuide(readFileSync(guidePath, 'utf8'));
  if (!steps.some((s) => s.kind === 'sh')) {
    throw new Error('docs/getting-started.md has no ```sh blocks');
  }

  console.log('== npm run pack:libs');
  run('npm', ['run', 'pack:libs'], { cwd: repo });
  const packages = join(repo, 'dist/packages');

  const work = mkdtempSync(join(tmpdir(), 'chronicle-getting-started-'));
  console.log(`== the guide, in ${work}`);
  let transcript = '';
  const code = await new Promise((resolve, reject) => {
    // Its own process group, so whatever the guide left running (the app it
    // starts in the background, if a later step failed) stops with it.
    const shell = spawn('bash', ['-c', toShellScript(steps)], {
      cwd: work,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CHRONICLE_PACKAGES: packages },
    });
    const stopGroup = () => {
      try {
        process.kill(-shell.pid, 'SIGTERM');
      } catch {
        // The group has already exited.
      }
    };
    const timer = setTimeout(() => {
      console.error(`the guide ran over ${TIME_LIMIT_MS / 60000} minutes`);
      stopGroup();
    }, TIME_LIMIT_MS);
    for (const stream of [shell.stdout, shell.stderr]) {
      stream.on('data', (chunk) => {
        transcript += chunk;
        (stream === shell.stdout ? process.stdout : process.stderr).write(
          chunk,
        );
      });
    }
    shell.on('error', reject);
    shell.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      stopGroup();
      resolve(exitCode ?? (signal ? 128 : 1));
    });
  });
  if (keep) console.log(`== kept ${work}`);
  else rmSync(work, { recursive: true, force: true });

  if (code !== 0) {
    throw new Error(`a step of the guide failed (exit ${code}); see above`);
  }
  const missing = expectations.filter((text) => !transcript.includes(text));
  if (missing.length > 0) {
    throw new Error(
      `the guide's output lacks: ${missing.map((t) => JSON.stringify(t)).join(', ')}`,
    );
  }
  console.log(
    `== getting-started.md: ${steps.length} steps and ${expectations.length} output checks passed`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`getting-started: ${error.message}`);
    process.exitCode = 1;
  });
}
