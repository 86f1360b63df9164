import { EventEmitter } from 'node:events';

/**
 * A wake-up for readers of the log: "new events were committed". It carries no
 * events and promises nothing; the store is the truth, and readers that miss a
 * signal still find the events on their next read.
 */
export abstract class AppendSignal {
  /** Tells every listener (in this process, and in others when a transport relays it). */
  abstract notify(): void;
  /** Calls `listener` on every notification; returns a function that stops it. */
  abstract subscribe(listener: () => void): () => void;
}

/** The in-process signal: the embedded default, and the local half of a relayed one. */
export class LocalAppendSignal extends AppendSignal {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  notify(): void {
    this.emitter.emit('appended');
  }

  subscribe(listener: () => void): () => void {
    this.emitter.on('appended', listener);
    return () => this.emitter.off('appended', listener);
  }
}
