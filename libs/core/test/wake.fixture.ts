import {
  Injectable,
  Module,
  type INestApplicationContext,
  type Provider,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  Consumer,
  HandleEvent,
  TrackingService,
  Upcaster,
  type ChronicleModuleOptions,
  type SqlClient,
} from '../src/index.js';
import type { ConsumerTracker } from '../src/tracking/consumer-tracker.js';
import { Deposited, FAST_TRACKING, Noted } from './tracking.fixture.js';

// Two consumers of different types, to see which segments an append wakes.

@Consumer('deposits', { segments: 3 })
export class DepositsReader {
  @HandleEvent(Deposited)
  onDeposited(): void {}
}

@Consumer('notes', { segments: 2 })
export class NotesReader {
  @HandleEvent(Noted)
  onNoted(): void {}
}

/** Notes stored under their old name are read as notes. */
@Injectable()
export class OldNotes {
  @Upcaster('wake.OldNote', 1)
  renamed() {
    return { type: 'tracking.Noted', revision: 1, payload: { text: 'old' } };
  }
}

/** An app with both readers; `transport` relays its wake-ups over NATS. */
export async function wakeApp(
  client: SqlClient,
  schema: string,
  transport?: ChronicleModuleOptions['transport'],
): Promise<INestApplicationContext> {
  const providers: Provider[] = [DepositsReader, NotesReader, OldNotes];
  @Module({ providers })
  class ReadersModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        app: 'wake',
        database: { client, schema },
        tracking: FAST_TRACKING,
        transport,
      }),
      ReadersModule,
    ],
  }).compile();
  return moduleRef.init();
}

function tracker(
  app: INestApplicationContext,
  consumer: string,
): ConsumerTracker {
  // Test-only peek at the service's trackers (a private field).
  const trackers = (
    app.get(TrackingService) as unknown as {
      trackers: Map<string, ConsumerTracker>;
    }
  ).trackers;
  const found = trackers.get(consumer);
  if (!found) throw new Error(`No tracker for "${consumer}"`);
  return found;
}

/** How many segments of `consumer` this app runs. */
export function segmentsHere(
  app: INestApplicationContext,
  consumer: string,
): number {
  return tracker(app, consumer).workers.size;
}

/** How many times the segments of `consumer` in this app were woken, in all. */
export function wakes(app: INestApplicationContext, consumer: string): number {
  let total = 0;
  for (const worker of tracker(app, consumer).workers.values()) {
    total += worker.wakes;
  }
  return total;
}
