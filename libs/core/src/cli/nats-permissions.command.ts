import type { INestApplicationContext } from '@nestjs/common';
import { ErrorHandlers } from '../error-messages/index.js';
import { MessageRouter } from '../handling/index.js';
import {
  authorizationBlock,
  IN_PROCESS_ONLY,
  natsPermissions,
  passwordVariableOf,
  Transport,
  TRANSPORT_OPTIONS,
  type AppRoutes,
  type ResolvedTransportOptions,
} from '../transport/index.js';
import { parseCommandArgs, runCommand, UsageError } from './cli-database.js';
import { rootModuleOf, warningsToStderr } from './in-process-app.js';

const USAGE = `Usage: chronicle nats-permissions --module <file> [options]

Prints the NATS permissions an app needs, and no more, as a nats-server
authorization block: the subjects it serves (subscribe) and sends to
(publish), its presence, the store's wake-ups, error messages, replies
(subscribe _INBOX.>; allow_responses for the replies it sends). The app's
module is started in this process to find out, on an embedded store in
memory and the in-process transport: no NATS or database it names (options,
NATS_URL, DATABASE_URL) is touched. CHRONICLE_ENABLED counts, so run it with
the deployment's value. The password is read by nats-server from
the environment variable <USER>_NATS_PASSWORD: no secret is printed.

  --module <file>    the app's built root module (e.g. apps/orders/dist/app.module.js)
  --namespace <ns>   the deployment's namespace (default: the app's, CHRONICLE_NAMESPACE or "default")
  --user <name>      the NATS user (default: the app's name)
  --json             print { app, namespace, user, passwordVariable, permissions } as JSON

Example: chronicle nats-permissions --module apps/orders/dist/app.module.js > orders-auth.conf`;

/** What the command prints, as JSON. */
export interface AppNatsPermissions {
  readonly app: string;
  readonly namespace: string;
  readonly user: string;
  readonly passwordVariable: string;
  readonly permissions: ReturnType<typeof natsPermissions>;
}

export function run(args: string[]): Promise<number> {
  return runCommand(USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, {
      module: { type: 'string' },
      namespace: { type: 'string' },
      user: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    if (values.module === undefined)
      throw new UsageError(
        "--module is required: the app's built root module.",
      );
    const found = await appPermissions(values.module, values.namespace);
    const user = values.user ?? found.app;
    const result: AppNatsPermissions = {
      app: found.app,
      namespace: found.namespace,
      user,
      passwordVariable: passwordVariableOf(user),
      permissions: found.permissions,
    };
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    console.log(
      `# NATS permissions of the Chronicle app "${result.app}" on namespace "${result.namespace}"\n` +
        `# (chronicle nats-permissions). nats-server reads the password from $${result.passwordVariable}.\n` +
        authorizationBlock(user, result.permissions),
    );
    return 0;
  });
}

/**
 * Starts the app's module here, on a store in memory and the in-process
 * transport, and reads what its bootstrap decided: the types it serves and
 * sends, and the errors it handles.
 */
export async function appPermissions(
  modulePath: string,
  namespace: string | undefined,
): Promise<Omit<AppNatsPermissions, 'user' | 'passwordVariable'>> {
  const rootModule = await rootModuleOf(modulePath);
  // Nothing of a deployment is touched: no NATS (even one named in the app's
  // code), no database, no data directory.
  (globalThis as Record<symbol, unknown>)[IN_PROCESS_ONLY] = true;
  for (const name of ['NATS_URL', 'DATABASE_URL', 'CHRONICLE_DATA_DIR'])
    delete process.env[name];
  if (namespace !== undefined) process.env.CHRONICLE_NAMESPACE = namespace;
  const { NestFactory } = await import('@nestjs/core');
  const app: INestApplicationContext =
    await NestFactory.createApplicationContext(rootModule, {
      logger: warningsToStderr,
      abortOnError: false,
    });
  try {
    // An app on a @chronicle/core too old to know IN_PROCESS_ONLY.
    if (app.get(Transport, { strict: false }).status().kind === 'nats')
      throw new Error(
        `${modulePath} connected to NATS although this command keeps apps in process: ` +
          'its @chronicle/core is older than the CLI. Run the CLI of the version the app uses.',
      );
    const options = app.get<ResolvedTransportOptions>(TRANSPORT_OPTIONS, {
      strict: false,
    });
    const { served, sent } = app.get(MessageRouter, { strict: false }).routes();
    const routes: AppRoutes = {
      namespace: namespace ?? options.namespace,
      served,
      sent,
      errorsHandled: app.get(ErrorHandlers, { strict: false }).handledTypes,
    };
    return {
      app: options.app,
      namespace: routes.namespace,
      permissions: natsPermissions(routes),
    };
  } finally {
    await app.close();
  }
}
