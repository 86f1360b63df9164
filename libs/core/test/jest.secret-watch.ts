import { watchOutput } from './secret-watch.js';

// Every spec file: nothing it prints may hold a secret it registered
// (see secret-watch.ts). A leak fails the file, naming where it went.
let stop: (() => string[]) | undefined;

beforeAll(() => {
  stop = watchOutput();
});

afterAll(() => {
  const leaks = stop?.() ?? [];
  if (leaks.length > 0) {
    throw new Error(
      `Secrets were printed: ${[...new Set(leaks)].join('; ')}. Redact them where they are logged.`,
    );
  }
});
