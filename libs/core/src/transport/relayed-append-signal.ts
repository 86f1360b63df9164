import { AppendSignal, LocalAppendSignal } from '../store/index.js';
import type { Transport } from './transport.js';

/**
 * The store's wake-up, relayed to every app on the transport: a commit here
 * wakes readers here at once and readers elsewhere one NATS hop later.
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
    await transport.onBroadcast(subject, () => signal.local.notify());
    return signal;
  }

  notify(): void {
    this.local.notify();
    this.transport.broadcast(this.subject);
  }

  subscribe(listener: () => void): () => void {
    return this.local.subscribe(listener);
  }
}
