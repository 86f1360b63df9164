import { freshSchema } from '../../../../libs/core/test/databases.js';
import { freshNamespace } from '../../../../libs/core/test/nats.js';
import { FaultProcess } from './fault-process.js';
import { dropSchemas, report, tally, type Tally } from './tally.js';

/** What an app process is told besides where NATS is. */
export interface AppOptions {
  /** Its NATS connection name; also how the report names it. */
  readonly name: string;
  /** The servers it may connect to, comma-separated. */
  readonly servers: string;
  readonly token?: string;
  readonly [key: string]: string | undefined;
}

/**
 * The apps of one fault scenario: handler instances sharing one schema,
 * load processes each with a schema of its own, all on one fresh namespace;
 * and their cleanup.
 */
export class Scenario {
  readonly namespace = freshNamespace();
  readonly handlerSchema = freshSchema('entries');
  private readonly schemas = [this.handlerSchema];
  private readonly processes: FaultProcess[] = [];

  /** A handler app instance (app `entries`); resolves once it serves. */
  async handler(options: AppOptions): Promise<FaultProcess> {
    const app = FaultProcess.handler(this.env(options, this.handlerSchema));
    this.processes.push(app);
    await app.ready();
    return app;
  }

  /** A load process; it starts sending as soon as it is ready. */
  async load(options: AppOptions): Promise<FaultProcess> {
    const schema = freshSchema('caller');
    this.schemas.push(schema);
    const load = FaultProcess.load(this.env(options, schema));
    this.processes.push(load);
    await load.ready();
    return load;
  }

  /** Stops the loads, compares their acknowledgements with the store, reports. */
  async tally(title: string, loads: readonly FaultProcess[]): Promise<Tally> {
    const summaries = await Promise.all(loads.map((l) => l.finish()));
    const figures = await tally(this.handlerSchema, summaries);
    report(title, figures);
    return figures;
  }

  /** What the apps logged (stdout and stderr) that matches `pattern`, each line once. */
  logged(pattern: RegExp): string[] {
    const lines = this.processes.flatMap((p) =>
      [...p.lines, ...p.errors]
        .filter((l) => pattern.test(l))
        // Nest's log lines start with the pid and a timestamp: not part of what was said.
        .map(
          (l) => `${p.name}: ${l.replace(/^.*?(LOG|WARN|ERROR)\s+/, '$1 ')}`,
        ),
    );
    return [...new Set(lines)];
  }

  async dispose(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await dropSchemas(this.schemas);
  }

  private env(
    { name, servers, token, ...rest }: AppOptions,
    schema: string,
  ): Parameters<typeof FaultProcess.handler>[0] {
    return {
      ...rest,
      NATS_NAME: name,
      NATS_SERVERS: servers,
      NATS_TOKEN: token ?? '',
      NAMESPACE: this.namespace,
      SCHEMA: schema,
    };
  }
}

/** Waits for a condition and says whether it came, instead of throwing: the figures are reported either way. */
export async function came(wait: Promise<unknown>): Promise<boolean> {
  return wait.then(
    () => true,
    (error: unknown) => {
      process.stdout.write(`  (did not come) ${(error as Error).message}\n`);
      return false;
    },
  );
}
