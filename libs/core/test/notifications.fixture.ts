import {
  Inject,
  Injectable,
  Module,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  Consumer,
  HandleError,
  HandleEvent,
  HandleNotification,
  type ChronicleModuleOptions,
  type HandlingFailed,
  type SqlClient,
  type StoredEvent,
} from '../src/index.js';
import { FAST_TRACKING, Noted } from './tracking.fixture.js';

// An app with notification handlers on notes and a durable consumer of the
// same notes, each recording into its own app's witness.

export const WITNESS_NAME = Symbol('notification-witness-name');

/** What one app saw: ids in the order its handlers got them. */
@Injectable()
export class NotificationWitness {
  /** `NoteListener.onNoted`: may throw or hang on cue. */
  readonly notified: string[] = [];
  /** `NoteListener.alsoOnNoted`: never fails. */
  readonly alsoNotified: string[] = [];
  /** The `notes-ledger` consumer. */
  readonly tracked: string[] = [];
  readonly failures: HandlingFailed[] = [];
  /** Released by the test to end a hanging handler. */
  release: () => void = () => {};
  private readonly hanging = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  constructor(@Inject(WITNESS_NAME) readonly name: string) {}

  hang(): Promise<void> {
    return this.hanging;
  }
}

/** A plain provider (no class decorator) with two notification handlers. */
@Injectable()
export class NoteListener {
  constructor(private readonly witness: NotificationWitness) {}

  @HandleNotification(Noted)
  async onNoted(event: Noted, envelope: StoredEvent<Noted>): Promise<void> {
    if (event.text === 'fail') throw new Error('notification handler fails');
    if (event.text === 'hang') await this.witness.hang();
    this.witness.notified.push(envelope.id);
  }

  @HandleNotification(Noted)
  alsoOnNoted(event: Noted, envelope: StoredEvent<Noted>): void {
    this.witness.alsoNotified.push(envelope.id);
  }
}

@Consumer('notes-ledger', { segments: 3, batchSize: 20 })
export class NotesLedger {
  constructor(private readonly witness: NotificationWitness) {}

  @HandleEvent(Noted)
  onNoted(event: Noted, envelope: StoredEvent<Noted>): void {
    this.witness.tracked.push(envelope.id);
  }
}

/** The error messages of notes: how a failed notification handler is reported. */
@Injectable()
export class NoteFailures {
  constructor(private readonly witness: NotificationWitness) {}

  @HandleError(Noted)
  onFailed(failed: HandlingFailed): void {
    this.witness.failures.push(failed);
  }
}

/** One instance of the app; `transport` puts it on NATS. */
export async function notifyApp(
  client: SqlClient,
  schema: string,
  name: string,
  transport?: ChronicleModuleOptions['transport'],
): Promise<INestApplicationContext> {
  @Module({
    providers: [
      { provide: WITNESS_NAME, useValue: name },
      NotificationWitness,
      NoteListener,
      NotesLedger,
      NoteFailures,
    ],
  })
  class NotesModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app: 'notify',
        database: { client, schema },
        tracking: { ...FAST_TRACKING, instanceId: name },
        notifications: { stopTimeoutMs: 200 },
        transport,
      }),
      NotesModule,
    ],
  }).compile();
  return moduleRef.init();
}

export function witnessOf(app: INestApplicationContext): NotificationWitness {
  return app.get(NotificationWitness);
}
