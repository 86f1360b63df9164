import {
  checkId,
  checkMetadata,
  InvalidIdError,
  InvalidMetadataError,
  MessageTypeRegistry,
  newMessageId,
  type MessageKind,
} from '../messages/index.js';
import {
  decodeReply,
  encodeRequest,
  messageSubject,
  NatsTransport,
  NoHandlerError,
  RemoteHandlerError,
  type Transport,
} from '../transport/index.js';
import {
  MessageSigner,
  resolveSigning,
  SigningTransport,
} from '../transport/signing/index.js';
// Also registers UnauthenticatedError and ForbiddenError, so a refusal prints as itself.
import { USER_METADATA_KEY } from '../security/index.js';
import { parseCommandArgs, runCommand, UsageError } from './cli-database.js';
import { startAppInProcess } from './in-process-app.js';

const usage = (verb: 'send' | 'query'): string => {
  const noun = verb === 'send' ? 'command' : 'query';
  return `Usage: chronicle ${verb} <${noun} type> ['<json payload>'] [options]

${
  verb === 'send'
    ? "Sends a command to the microclients that handle it, over NATS, and prints\nthe handler's result as JSON."
    : 'Asks a query of the microclients that answer it, over NATS, and prints the\nresult as JSON.'
} With --module, runs the app's built module in this process
instead (an embedded app, which no NATS reaches), on its store:

  --module <file>    the app's built root module (e.g. apps/library/dist/app.module.js);
                     the ${noun} is handled in this process, NATS_URL is ignored
  --data-dir <dir>   with --module: the app's embedded store (default: CHRONICLE_DATA_DIR);
                     one process at a time opens it, so stop the app first
  --namespace <ns>   the apps' namespace (default: CHRONICLE_NAMESPACE or "default")
  --nats <url>       NATS server (default: NATS_URL or nats://127.0.0.1:4222)
  --timeout <ms>     how long to wait for the reply (default: 10000)
  --app <name>       the name the request is signed as, when CHRONICLE_SIGNING_KEY
                     is set (signed messages; default: chronicle-cli)
  --user '<json>'    send it as this user, as the app's UserProvider writes users
                     (default provider: '{"id":"ann","roles":["admin"]}'); see docs/guides/security.md${
                       verb === 'send'
                         ? `
  --id <id>          the command's id: sending the same id again has no second effect`
                         : ''
                     }

Example: chronicle ${verb} ${
    verb === 'send'
      ? `orders.PlaceOrder '{"orderId":"o-1","amount":30}'`
      : `orders.GetOrder '{"orderId":"o-1"}'`
  }
         chronicle ${verb} ${
           verb === 'send'
             ? `library.CreateBook '{"bookId":"b-1","title":"Emma"}'`
             : `library.GetBook '{"bookId":"b-1"}'`
         } --module apps/library/dist/app.module.js --data-dir .chronicle-data/library`;
};

/** The payload argument as a JSON object, or a usage error saying what is wrong. */
export function parsePayload(json: string | undefined): object {
  if (json === undefined) return {};
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (error) {
    throw new UsageError(
      `The payload is not valid JSON (${(error as Error).message}): ${json}`,
    );
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw new UsageError(`The payload must be a JSON object, got: ${json}`);
  return payload;
}

/**
 * `--user`: the user the message is sent as, as the app's UserProvider
 * serializes it (`{"id":"ann","roles":["admin"]}` for the default one); the
 * serving app reads and checks it.
 */
export function parseUser(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  let user: unknown;
  try {
    user = JSON.parse(json);
  } catch (error) {
    throw new UsageError(
      `--user is not valid JSON (${(error as Error).message}): give the user as the app's UserProvider writes it, e.g. --user '{"id":"ann","roles":["admin"]}'.`,
    );
  }
  try {
    checkMetadata({ [USER_METADATA_KEY]: user }, '--user');
  } catch (error) {
    if (error instanceof InvalidMetadataError)
      throw new UsageError(error.message);
    throw error;
  }
  return user;
}

/**
 * `chronicle send` / `chronicle query`: one request on the wire format the
 * apps speak, so a running system can be driven from a shell without writing
 * a client. The message class is not needed: the handling app validates and
 * rebuilds the payload as it does for any caller.
 */
export function run(verb: 'send' | 'query', args: string[]): Promise<number> {
  const kind: MessageKind = verb === 'send' ? 'command' : 'query';
  return runCommand(usage(verb), async () => {
    const { values, positionals } = parseCommandArgs(args, {
      namespace: { type: 'string' },
      nats: { type: 'string' },
      timeout: { type: 'string', default: '10000' },
      id: { type: 'string' },
      app: { type: 'string' },
      module: { type: 'string' },
      'data-dir': { type: 'string' },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log(usage(verb));
      return 0;
    }
    if (positionals.length < 1 || positionals.length > 2)
      throw new UsageError(`Expected a ${kind} type and an optional payload.`);
    if (verb === 'query' && values.id)
      throw new UsageError('--id is for commands only.');
    const [type, json] = positionals;
    const payload = parsePayload(json);
    const timeoutMs = Number(values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
      throw new UsageError(
        `--timeout must be a whole number of milliseconds, got "${values.timeout}".`,
      );
    if (values['data-dir'] !== undefined && values.module === undefined)
      throw new UsageError(
        '--data-dir goes with --module: without it the command goes over NATS to the running apps.',
      );
    if (
      values.module !== undefined &&
      (values.nats !== undefined || values.namespace !== undefined)
    )
      throw new UsageError(
        '--module handles the message in this process, on the namespace the app sets; ' +
          '--nats and --namespace are for running apps: pick one.',
      );

    const id = values.id ?? newMessageId();
    try {
      checkId(id, '--id');
    } catch (error) {
      if (error instanceof InvalidIdError) throw new UsageError(error.message);
      throw error;
    }
    const user = parseUser(values.user);
    const request = encodeRequest(
      {
        id,
        type,
        revision: 1,
        payload,
        metadata:
          user === undefined
            ? { correlationId: id }
            : { correlationId: id, [USER_METADATA_KEY]: user },
        timestamp: new Date(),
      },
      payload,
    );
    const { transport, namespace, close } =
      values.module !== undefined
        ? await startAppInProcess(values.module, values['data-dir'])
        : await connectToNats(verb, values.nats, values.namespace, values.app);
    try {
      const reply = await transport.request(
        messageSubject(namespace, kind, type),
        request,
        { timeoutMs, messageType: type },
      );
      const result = decodeReply(reply, type, id);
      console.log(JSON.stringify(result ?? null, null, 2));
      return 0;
    } catch (error) {
      if (error instanceof NoHandlerError && values.module !== undefined)
        throw new Error(
          `${values.module} handles no ${kind} "${type}" (${knownTypes(kind)}).`,
        );
      // The handler's own error class and code say more than "failed".
      if (error instanceof RemoteHandlerError)
        throw new Error(
          `${type} failed in the handler: ${error.remoteName} (${error.code}): ${error.message}`,
        );
      throw error;
    } finally {
      await close();
    }
  });
}

/** The running apps, over NATS. */
async function connectToNats(
  verb: 'send' | 'query',
  nats: string | undefined,
  namespace: string | undefined,
  app: string | undefined,
): Promise<{
  transport: Transport;
  namespace: string;
  close: () => Promise<void>;
}> {
  const servers = nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  // Signed like an app's requests when CHRONICLE_SIGNING_KEY is set; the
  // apps must trust this key under this name.
  const signing = resolveSigning(
    app ?? 'chronicle-cli',
    undefined,
    process.env,
  );
  const connection = await NatsTransport.connect(
    { servers, name: `chronicle-cli-${verb}` },
    () => undefined,
  );
  const transport = signing
    ? new SigningTransport(connection, new MessageSigner(signing))
    : connection;
  return {
    transport,
    namespace: namespace ?? process.env.CHRONICLE_NAMESPACE ?? 'default',
    close: () => transport.close(),
  };
}

/** The message types of a kind the loaded module declares, for an error message. */
function knownTypes(kind: MessageKind): string {
  const names = MessageTypeRegistry.all()
    .filter((info) => info.kind === kind)
    .map((info) => info.name)
    .sort();
  return names.length > 0
    ? `the ${kind} types it declares: ${names.join(', ')}`
    : `it declares no ${kind} type`;
}
