import { AsyncLocalStorage } from 'node:async_hooks';
import type { Envelope } from './envelope.js';

const storage = new AsyncLocalStorage<Envelope>();

/**
 * The message being handled right now, carried across awaits. Envelopes made
 * while it is set take their correlation from it and name it as their cause.
 */
export const MessageContext = {
  current(): Envelope | undefined {
    return storage.getStore();
  },

  run<R>(envelope: Envelope, fn: () => R): R {
    return storage.run(envelope, fn);
  },
};
