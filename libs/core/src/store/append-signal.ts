import { EventEmitter } from 'node:events';

/**
 * What a listener hears: the event types just committed, or `undefined` when
 * they are unknown (an older app's wake-up, a notify without types), which
 * means "anything may have changed".
 */
export type AppendedTypes = readonly string[] | undefined;

/**
 * A wake-up for readers of the log: "new events of these types were
 * committed". It carries no events and promises nothing; the store is the
 * truth, and readers that miss a signal still find the events on their next read.
 */
export abstract class AppendSignal {
  /**
   * Tells every listener (in this process, and in others when a transport
   * relays it) which event types were committed; without `types`, readers of
   * every type wake.
   */
  abstract notify(types?: readonly string[]): void;
  /** Calls `listener` on every notification; returns a function that stops it. */
  abstract subscribe(listener: (types: AppendedTypes) => void): () => void;
}

/** The in-process signal: the embedded default, and the local half of a relayed one. */
export class LocalAppendSignal extends AppendSignal {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  notify(types?: readonly string[]): void {
    this.emitter.emit('appended', types);
  }

  subscribe(listener: (types: AppendedTypes) => void): () => void {
    this.emitter.on('appended', listener);
    return () => this.emitter.off('appended', listener);
  }
}
