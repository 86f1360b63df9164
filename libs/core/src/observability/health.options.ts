/**
 * `ChronicleModule.forRoot({ health })`: when readiness turns `down` because
 * consumers fall behind. Lag never touches liveness (see docs/guides/operations.md).
 */
export interface HealthOptions {
  /**
   * Readiness is down while a running or unclaimed segment has more events
   * than this waiting past its checkpoint. Default: no limit.
   */
  readonly maxLagEvents?: number;
  /**
   * Readiness is down while the oldest event waiting for a running or
   * unclaimed segment is older than this. Default: no limit.
   */
  readonly maxLagSeconds?: number;
  /**
   * Readiness is down while a running segment is stale: events it could read
   * have waited this long and its checkpoint has not moved for this long
   * (a handler that hangs, a wedged worker). Default 5 minutes.
   */
  readonly staleCheckpointMs?: number;
  /**
   * Readiness is down while an open transaction has held the log back for
   * longer than this (every consumer waits behind it). Default: no limit.
   */
  readonly maxHeldBackSeconds?: number;
}

export const HEALTH_OPTIONS = Symbol('chronicle:health-options');

export const DEFAULT_STALE_CHECKPOINT_MS = 5 * 60_000;
