import {
  AppendSignal,
  LocalAppendSignal,
  type AppendedTypes,
} from '../store/index.js';
import type { Transport } from './transport.js';

/** Above this many distinct types, a wake-up says "unknown" rather than grow large. */
export const MAX_RELAYED_TYPES = 50;

/**
 * The store's wake-up, relayed to every app on the transport: a commit here
 * wakes readers here at once and readers elsewhere one NATS hop later. The
 * message body is `{"types":[...]}`; an empty or unreadable body (an older
 * app sends none) means the types are unknown, and every reader wakes.
 */
export class RelayedAppendSignal extends AppendSignal {
  private readonly local = new LocalAppendSignal();

  private constructor(
    private readonly transport: Transport,
    private readonly subject: string,
  ) {
    super();
  }

  static async start(
    transport: Transport,
    subject: string,
  ): Promise<RelayedAppendSignal> {
    const signal = new RelayedAppendSignal(transport, subject);
    await transport.onBroadcast(subject, (body) =>
      signal.local.notify(readWakeBody(body)),
    );
    return signal;
  }

  notify(types?: readonly string[]): void {
    const bounded = boundTypes(types);
    this.local.notify(bounded);
    this.transport.broadcast(this.subject, writeWakeBody(bounded));
  }

  subscribe(listener: (types: AppendedTypes) => void): () => void {
    return this.local.subscribe(listener);
  }
}

/** The distinct types, or `undefined` when unknown or too many to send. */
function boundTypes(types: AppendedTypes): AppendedTypes {
  if (types === undefined) return undefined;
  const distinct = [...new Set(types)];
  return distinct.length > MAX_RELAYED_TYPES ? undefined : distinct;
}

/** The wake-up's body: empty when the types are unknown. */
export function writeWakeBody(types: AppendedTypes): string {
  return types === undefined ? '' : JSON.stringify({ types });
}

/** The types a wake-up's body names; `undefined` for an empty or unreadable body. */
export function readWakeBody(body: string): AppendedTypes {
  if (body === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    const types =
      typeof parsed === 'object' && parsed !== null
        ? (parsed as { types?: unknown }).types
        : undefined;
    return Array.isArray(types) &&
      types.every((type) => typeof type === 'string')
      ? types
      : undefined;
  } catch {
    return undefined;
  }
}
