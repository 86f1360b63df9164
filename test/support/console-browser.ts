import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
} from 'playwright-core';

/** Debian's chromium (`.ci/run` installs it), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "No chromium on PATH: install Debian's package (`apt-get install -y chromium`, as .ci/run does) or set CHROMIUM_PATH.",
    );
  }
}

export function launchChromium(): Promise<Browser> {
  // CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({
    executablePath: chromiumPath(),
    chromiumSandbox: false,
  });
}

/** A port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Where screenshots go: docs/images/console when UPDATE_SCREENSHOTS=1 (to
 * commit them), else a temporary folder, so a test run leaves the tree alone.
 */
export function screenshotFolder(): string {
  const folder =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? join(process.cwd(), 'docs/images/console')
      : join(tmpdir(), 'chronicle-console-screenshots');
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** A signed-in browser context whose pages record every console error and uncaught exception. */
export async function signedIn(
  browser: Browser,
  username: string,
  password: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    httpCredentials: { username, password },
    viewport: { width: 1360, height: 860 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error')
      errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) =>
    errors.push(`${page.url()}: ${error.message}`),
  );
  return { context, page, errors };
}
