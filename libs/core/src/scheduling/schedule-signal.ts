import { EventEmitter } from 'node:events';

/**
 * "A schedule was written, due at this time": wakes this process's poller so
 * that a message due sooner than it planned to look is not late. Fed in
 * process by the `Scheduler`, and from other processes by the database's
 * NOTIFY. A wake-up only: pollers that miss one still find the row.
 */
export class ScheduleSignal {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  notify(dueMs?: number): void {
    this.emitter.emit('scheduled', dueMs);
  }

  subscribe(listener: (dueMs?: number) => void): () => void {
    this.emitter.on('scheduled', listener);
    return () => this.emitter.off('scheduled', listener);
  }
}
