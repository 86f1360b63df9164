import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { FailureReporter } from '../handling/index.js';
import { EventUpcaster } from '../messages/index.js';
import { AppendSignal, EventStore } from '../store/index.js';
import { TRACKING_OPTIONS, type TrackingOptions } from '../tracking/index.js';
import { NotificationExplorer } from './notification-explorer.js';
import { NotificationReader } from './notification-reader.js';
import {
  NOTIFICATION_OPTIONS,
  type NotificationOptions,
  type ResolvedNotificationOptions,
} from './notifications.options.js';

/**
 * Runs this app's `@HandleNotification` methods from application bootstrap
 * to shutdown, in a loop of their own beside the consumers' segments.
 */
@Injectable()
export class Notifications implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('ChronicleNotifications');
  private readonly options: ResolvedNotificationOptions;
  private reader?: NotificationReader;
  private unsubscribe?: () => void;

  constructor(
    private readonly explorer: NotificationExplorer,
    private readonly store: EventStore,
    private readonly signal: AppendSignal,
    private readonly upcaster: EventUpcaster,
    @Inject(NOTIFICATION_OPTIONS) options: NotificationOptions,
    @Inject(TRACKING_OPTIONS) tracking: TrackingOptions,
    @Optional() private readonly failures?: FailureReporter,
  ) {
    this.options = {
      enabled: options.enabled ?? true,
      batchSize: options.batchSize ?? 100,
      pollIntervalMs: options.pollIntervalMs ?? tracking.pollIntervalMs ?? 100,
      maxPollIntervalMs:
        options.maxPollIntervalMs ?? tracking.maxPollIntervalMs ?? 2_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 5_000,
    };
  }

  /** Events this instance has handed to its notification handlers since start. */
  get delivered(): number {
    return this.reader?.delivered ?? 0;
  }

  /** Reads of the log so far: one more means the reader looked again. */
  get reads(): number {
    return this.reader?.reads ?? 0;
  }

  /** Whether this instance runs notification handlers (it has some, and they are enabled). */
  get running(): boolean {
    return this.reader !== undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const handlers = this.explorer.explore();
    if (!this.options.enabled || handlers.size === 0) return;
    const reader = new NotificationReader(handlers, {
      store: this.store,
      upcaster: this.upcaster,
      options: this.options,
      logger: this.logger,
      failures: this.failures,
    });
    // "Now" is taken before bootstrap returns: whatever commits after it is delivered.
    await reader.start();
    this.reader = reader;
    this.unsubscribe = this.signal.subscribe((types) => reader.wake(types));
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    await this.reader?.stop();
  }
}
