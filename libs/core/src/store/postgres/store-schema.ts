import { StoreConfigurationError } from '../store.errors.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The PostgreSQL schema that holds Chronicle's tables, with its names quoted once. */
export class StoreSchema {
  readonly quoted: string;
  readonly events: string;
  readonly handledCommands: string;
  readonly migrations: string;

  constructor(readonly name: string = 'chronicle') {
    if (!IDENTIFIER.test(name)) {
      throw new StoreConfigurationError(
        `Schema name "${name}" is not allowed: use lower-case letters, digits and "_", starting with a letter or "_" (at most 63 characters).`,
      );
    }
    this.quoted = `"${name}"`;
    this.events = this.table('events');
    this.handledCommands = this.table('handled_commands');
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
