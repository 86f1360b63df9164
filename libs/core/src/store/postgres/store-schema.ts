import { StoreConfigurationError } from '../store.errors.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Refuses a schema name that would need quoting: such names go into SQL text
 * (and a connection's search_path) as they are. `what` names the setting.
 */
export function checkSchemaName(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new StoreConfigurationError(
      `${what} "${name}" is not allowed: use lower-case letters, digits and "_", starting with a letter or "_" (at most 63 characters).`,
    );
  }
  return name;
}

/** The PostgreSQL schema that holds Chronicle's tables, with its names quoted once. */
export class StoreSchema {
  readonly quoted: string;
  readonly events: string;
  readonly handledCommands: string;
  readonly messageLog: string;
  readonly migrations: string;

  constructor(readonly name: string = 'chronicle') {
    checkSchemaName(name, 'Schema name');
    this.quoted = `"${name}"`;
    this.events = this.table('events');
    this.handledCommands = this.table('handled_commands');
    this.messageLog = this.table('message_log');
    this.migrations = this.table('migrations');
  }

  private readonly statements = new Map<
    (schema: StoreSchema) => string,
    string
  >();

  /** The text of a statement for this schema, built once. */
  sql(build: (schema: StoreSchema) => string): string {
    let text = this.statements.get(build);
    if (text === undefined) {
      text = build(this);
      this.statements.set(build, text);
    }
    return text;
  }

  /** A table of this schema, quoted. */
  table(name: string): string {
    return `${this.quoted}."${name}"`;
  }
}
