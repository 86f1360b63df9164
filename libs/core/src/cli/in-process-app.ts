import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  INestApplicationContext,
  LoggerService,
  Type,
} from '@nestjs/common';
import {
  type DataDirectoryInUseError,
  type PgliteSqlClient,
  SQL_CLIENT,
  type SqlClient,
} from '../store/index.js';
import {
  IN_PROCESS_ONLY,
  Transport,
  TRANSPORT_OPTIONS,
  type ResolvedTransportOptions,
} from '../transport/index.js';
import { UsageError } from './cli-database.js';

/** An app's module started in this process, to send it one message. */
export interface InProcessApp {
  readonly transport: Transport;
  readonly namespace: string;
  close(): Promise<void>;
}

/**
 * `chronicle send|query --module`: starts the app's own Nest module (built JS)
 * in this process, without HTTP, so a command can reach an embedded app,
 * which has no NATS to be reached over. Messages travel in process
 * (`NATS_URL` and a NATS named in the app's code are ignored); the store is what the app would open here:
 * `--data-dir` (as `CHRONICLE_DATA_DIR`), else `DATABASE_URL`, else the app's
 * own options. An embedded store opens in one process at a time, so the app
 * must not be running meanwhile.
 */
export async function startAppInProcess(
  modulePath: string,
  dataDir: string | undefined,
): Promise<InProcessApp> {
  const rootModule = await rootModuleOf(modulePath);
  // In process, also when the app's code names a NATS: joining it would let
  // a running instance of the app take the message.
  (globalThis as Record<symbol, unknown>)[IN_PROCESS_ONLY] = true;
  delete process.env.NATS_URL;
  if (dataDir !== undefined) {
    // The option names the store for this run: a DATABASE_URL in the shell
    // would otherwise win over CHRONICLE_DATA_DIR.
    delete process.env.DATABASE_URL;
    process.env.CHRONICLE_DATA_DIR = dataDir;
  }
  const { NestFactory } = await import('@nestjs/core');
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(rootModule, {
      logger: warningsToStderr,
      abortOnError: false,
    });
  } catch (error) {
    if (isDataDirectoryInUse(error)) {
      throw new Error(
        `${error.message}\n\n` +
          `\`--module\` runs the app in this process on its embedded store, and an embedded ` +
          `store opens in one process at a time: stop the app (process ${error.pid}), send, ` +
          'then start it again. To send to an app while it runs, run it on PostgreSQL and NATS ' +
          '(DATABASE_URL, NATS_URL) and send without --module.',
      );
    }
    throw error;
  }
  try {
    refuseMemoryStore(app.get<SqlClient>(SQL_CLIENT, { strict: false }));
  } catch (error) {
    await app.close();
    throw error;
  }
  const options = app.get<ResolvedTransportOptions>(TRANSPORT_OPTIONS, {
    strict: false,
  });
  return {
    transport: app.get(Transport, { strict: false }),
    namespace: options.namespace,
    close: () => app.close(),
  };
}

/**
 * By its code, not its class: the app's module may load its own copy of
 * @chronicle/core (a workspace link beside an installed one).
 */
function isDataDirectoryInUse(
  error: unknown,
): error is DataDirectoryInUseError {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'DATA_DIRECTORY_IN_USE'
  );
}

/**
 * A command sent to an app on a store in memory would be forgotten when this
 * process ends, and see none of what the running app stored.
 */
function refuseMemoryStore(client: SqlClient): void {
  if (client.driver !== 'pglite') return;
  const dataDir = (client as PgliteSqlClient).database.dataDir;
  if (dataDir && !dataDir.startsWith('memory://')) return;
  throw new Error(
    'The app opened an embedded store in memory: what the command does would be lost when this ' +
      "command ends. Pass the app's data directory (--data-dir, e.g. the CHRONICLE_DATA_DIR of its " +
      '`npm run start:<app>` environment file), or set DATABASE_URL.',
  );
}

/**
 * The Nest module a built file exports: the one no other exported module
 * imports (a file may export a feature module beside the app's root).
 */
export async function rootModuleOf(path: string): Promise<Type> {
  const exports = (await import(pathToFileURL(resolve(path)).href)) as Record<
    string,
    unknown
  >;
  const modules = Object.values(exports).filter(isNestModule);
  const imported = new Set(
    modules.flatMap(
      (m) => (Reflect.getMetadata('imports', m) ?? []) as unknown[],
    ),
  );
  const roots = modules.filter((m) => !imported.has(m));
  if (roots.length === 1) return roots[0];
  throw new UsageError(
    roots.length === 0
      ? `${path} exports no Nest module: pass the app's built root module, e.g. dist/app.module.js.`
      : `${path} exports several Nest modules (${roots.map((m) => m.name).join(', ')}): ` +
          "pass a file that exports only the app's root module, e.g. dist/app.module.js.",
  );
}

function isNestModule(value: unknown): value is Type {
  return (
    typeof value === 'function' &&
    ['imports', 'providers', 'controllers', 'exports'].some(
      (key) => Reflect.getMetadata(key, value) !== undefined,
    )
  );
}

/** Only warnings and errors, on stderr: stdout carries the result alone. */
export const warningsToStderr: LoggerService = {
  log: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
  warn: (message: unknown, ...params: unknown[]) =>
    process.stderr.write(line('warn', message, params)),
  error: (message: unknown, ...params: unknown[]) => {
    // A module that fails to start is reported once, by the command, with advice.
    if (params[params.length - 1] === 'ExceptionHandler') return;
    process.stderr.write(line('error', message, params));
  },
  fatal: (message: unknown, ...params: unknown[]) =>
    process.stderr.write(line('fatal', message, params)),
};

function line(level: string, message: unknown, params: unknown[]): string {
  const context = params.length > 0 ? params[params.length - 1] : undefined;
  const detail = params
    .slice(0, -1)
    .filter((p): p is string => typeof p === 'string');
  const text = message instanceof Error ? message.message : String(message);
  return (
    [
      `${level}${typeof context === 'string' ? ` [${context}]` : ''} ${text}`,
      ...detail,
    ].join('\n') + '\n'
  );
}
