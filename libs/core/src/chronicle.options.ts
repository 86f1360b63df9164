import type { Type } from '@nestjs/common';
import type { AggregatesOptions } from './aggregates/index.js';
import type { DocumentsOptions } from './documents/index.js';
import type { CommandHandlingOptions } from './handling/index.js';
import { ChronicleError } from './messages/index.js';
import type { MessageOptions } from './messages/index.js';
import type { MessageLogOptions } from './message-log/index.js';
import type { HealthOptions } from './observability/index.js';
import type { SchedulingOptions } from './scheduling/index.js';
import type { SecurityOptions } from './security/index.js';
import type { PersonalDataModuleOptions } from './security/personal-data/index.js';
import type { SqlClient } from './store/index.js';
import type { TransportOptions } from './transport/index.js';
import type { MetricsOption } from './telemetry/index.js';
import type { NotificationOptions } from './notifications/index.js';
import type { TrackingOptions } from './tracking/index.js';

/** Where the event store lives. */
export interface DatabaseOptions {
  /** A PostgreSQL connection string. Default: `DATABASE_URL`, else embedded PGlite. */
  readonly url?: string;
  /** Run embedded PGlite even when `DATABASE_URL` is set (a demo, a unit test). */
  readonly embedded?: boolean;
  /** Run embedded PGlite with its files in this folder (kept across restarts). */
  readonly dataDir?: string;
  /** The PostgreSQL schema of Chronicle's tables. Default: `CHRONICLE_SCHEMA`, else `chronicle`. */
  readonly schema?: string;
  /**
   * The schema the app's own SQL runs in (`SQL_CLIENT`, a consumer's
   * `context.sql()`, TypeORM through `typeOrmConnectionOptions`): its
   * connections' search_path is this schema, then `public`, so unqualified
   * tables land here. Created at start. Default: `CHRONICLE_PROJECTION_SCHEMA`,
   * else `<schema>_projections`. Not with `client`: set your own search_path.
   */
  readonly projectionSchema?: string;
  /** The most connections the pool opens (PostgreSQL only). Default 10. */
  readonly poolSize?: number;
  /** A client you own (tests, a shared pool); Chronicle will not close it. */
  readonly client?: SqlClient;
  /**
   * Coalesce the appends of concurrent units of work into one statement while
   * another is in flight (see "Group commit" in docs/guides/event-store.md).
   * Default true; `false` sends one statement per unit of work.
   */
  readonly groupCommit?: boolean;
}

export interface ChronicleModuleOptions {
  /**
   * This microclient's name: its NATS connection's name, and the name other
   * apps warn about when two apps serve one message type. Required with NATS.
   */
  readonly app?: string;
  readonly database?: DatabaseOptions;
  readonly transport?: TransportOptions;
  readonly commands?: CommandHandlingOptions;
  /** How commands, queries and scheduled payloads are checked: fields their class does not declare. */
  readonly messages?: MessageOptions;
  /**
   * The modules whose handlers run in this process (`['orders', 'billing']` for
   * OrdersModule and BillingModule); messages for the others go over the
   * transport. Default: `CHRONICLE_ENABLED` (comma-separated), else all.
   */
  readonly enabled?: readonly string[];
  /** The aggregate cache and snapshots. */
  readonly aggregates?: AggregatesOptions;
  /** How this process runs its `@Consumer`s (leases, polling); see the consumers guide. */
  readonly tracking?: TrackingOptions;
  /** How this process runs its `@HandleNotification` methods; see the consumers guide. */
  readonly notifications?: NotificationOptions;
  /** The scheduler: its clock, polling, claims and retries (see docs/guides/scheduling.md). */
  readonly scheduling?: SchedulingOptions;
  /**
   * Prometheus metrics: `true` registers Chronicle's instruments on
   * prom-client's default registry and serves it at `/metrics` on the app's
   * HTTP server; see `MetricsOptions` and docs/guides/observability.md.
   * Default off. Tracing needs no option: it follows the app's OpenTelemetry SDK.
   */
  readonly metrics?: MetricsOption;
  /** When readiness turns down for consumers' lag (see docs/guides/operations.md). */
  readonly health?: HealthOptions;
  /**
   * The message log of every command, schedule delivery and error (and, when
   * asked, query): on by default; `false` turns it off. See
   * docs/guides/message-log.md.
   */
  readonly messageLog?: MessageLogOptions | boolean;
  /**
   * Users and roles: how a user travels in `metadata.user` (`userProvider`)
   * and whether every command and query needs one (`requireUser`). See
   * docs/guides/security.md.
   */
  readonly security?: SecurityOptions;
  /** How `@PersonalData` fields of events are sealed (see docs/guides/security.md). */
  readonly personalData?: PersonalDataModuleOptions;
  /** The document collections this app owns (see `Documents`). */
  readonly documents?: DocumentsOptions;
}

/** A class that makes Chronicle's options, for `forRootAsync({ useClass | useExisting })`. */
export interface ChronicleOptionsFactory {
  createChronicleOptions():
    ChronicleModuleOptions | Promise<ChronicleModuleOptions>;
}

/**
 * `forRootAsync`'s options, as Nest's own modules take them: exactly one of
 * `useFactory` (with `inject`), `useClass` (a `ChronicleOptionsFactory` Chronicle
 * instantiates) or `useExisting` (one a module in `imports` provides).
 */
export type ChronicleModuleAsyncOptions = {
  // Nest's own type for module imports, kept loose as it is there.
  readonly imports?: import('@nestjs/common').ModuleMetadata['imports'];
} & (
  | {
      readonly useFactory: (
        ...args: never[]
      ) => ChronicleModuleOptions | Promise<ChronicleModuleOptions>;
      readonly inject?: import('@nestjs/common').FactoryProvider['inject'];
      readonly useClass?: never;
      readonly useExisting?: never;
    }
  | {
      readonly useClass: Type<ChronicleOptionsFactory>;
      readonly useFactory?: never;
      readonly inject?: never;
      readonly useExisting?: never;
    }
  | {
      readonly useExisting: Type<ChronicleOptionsFactory>;
      readonly useFactory?: never;
      readonly inject?: never;
      readonly useClass?: never;
    }
);

/** `forRootAsync` was given no way, or several ways, to make the options. */
export class ChronicleModuleOptionsError extends ChronicleError {
  readonly code = 'CHRONICLE_MODULE_OPTIONS';
}

export const CHRONICLE_OPTIONS = Symbol('chronicle:options');
