import { forgetSubject } from '../security/personal-data/index.js';
import {
  DATABASE_ARGS,
  openStore,
  parseCommandArgs,
  runCommand,
  UsageError,
} from './cli-database.js';

export const FORGET_SUBJECT_USAGE = `Usage: chronicle forget-subject <subject id> [options]

Forgets a data subject for good: deletes its data key, so every @PersonalData
field sealed with it reads as its placeholder from now on, and deletes the
snapshots of the streams that held them. The forget is recorded in the store
(forgotten_subjects): running apps on this store hear of it and drop the key
and their cached aggregates, and an app keeping documents with personal fields
applies it to them now or, if none of its instances runs, when it next starts.
Needs no app module: what was sealed names its key, not its class. Cannot be
undone.

  --json             the report as JSON
  --url, --data-dir, --schema   as for every command (default: DATABASE_URL, schema CHRONICLE_SCHEMA or chronicle)`;

const OPTIONS = {
  ...DATABASE_ARGS,
  json: { type: 'boolean', default: false },
} as const;

/** `chronicle forget-subject <id>`: returns the exit code. */
export function run(args: string[]): Promise<number> {
  return runCommand(FORGET_SUBJECT_USAGE, async () => {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    if (positionals.length !== 1) {
      throw new UsageError('Name exactly one subject id.');
    }
    const [subjectId] = positionals;
    const { client, store } = await openStore(values);
    try {
      const report = await forgetSubject(client, store.schema, subjectId);
      process.stdout.write(
        values.json
          ? `${JSON.stringify({ subjectId, ...report })}\n`
          : report.forgotten
            ? `Forgot subject "${subjectId}": its personal data in ${report.streams.length} ` +
              `stream${report.streams.length === 1 ? '' : 's'} is unreadable now; their snapshots were deleted.\n`
            : `Subject "${subjectId}" has no key in schema "${store.schema.name}": no events to forget. ` +
              `Recorded all the same, for documents holding its personal fields.\n`,
      );
      return 0;
    } finally {
      await client.close();
    }
  });
}
