import {
  Global,
  Module,
  type DynamicModule,
  type INestApplicationContext,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ChronicleModule,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  Consumer,
  HandleEvent,
  HandleSchedule,
  NoHandlerError,
  ScheduleType,
  TrackingService,
  UnknownEnabledModuleError,
  type ICommandHandler,
} from '../index.js';
import { freshSchema, pgliteDatabase } from '../../test/databases.js';
import { Deposited, FAST_TRACKING } from '../../test/tracking.fixture.js';

// Which handlers run here is decided by module names and the module tree:
// a name enables its module and everything that module imports.

@CommandType('enabled.Pack')
class Pack extends Command<string> {}
@CommandHandler(Pack)
class PackHandler implements ICommandHandler<Pack> {
  async execute(): Promise<string> {
    return 'packed';
  }
}

@CommandType('enabled.Label')
class Label extends Command<string> {}
@CommandHandler(Label)
class LabelHandler implements ICommandHandler<Label> {
  async execute(): Promise<string> {
    return 'labelled';
  }
}

@CommandType('enabled.Audit')
class Audit extends Command<string> {}
@CommandHandler(Audit)
class AuditHandler implements ICommandHandler<Audit> {
  async execute(): Promise<string> {
    return 'audited';
  }
}

@Consumer('enabled-packing-log')
class PackingLog {
  @HandleEvent(Deposited)
  async on(): Promise<void> {}
}

@ScheduleType('enabled.Reminder')
class Reminder {}
class Reminders {
  @HandleSchedule(Reminder)
  async remind(): Promise<void> {}
}

/** Nested two levels below Warehouse: a handler and a consumer. */
@Module({ providers: [PackHandler, PackingLog] })
class PackingModule {}
@Module({ imports: [PackingModule] })
class FloorModule {}
/** Holds no handler of its own: it only imports the floor. */
@Module({ imports: [FloorModule] })
class WarehouseModule {}

@Module({ providers: [LabelHandler, Reminders] })
class LabelsModule {}

/** Global, and listed only by the root: enabled by its own name or the root's. */
@Global()
@Module({ providers: [AuditHandler] })
class AuditModule {}

/** Lists the global AuditModule itself, from a dynamic module. */
@Module({})
class ComplianceModule {
  static register(): DynamicModule {
    return { module: ComplianceModule, imports: [AuditModule] };
  }
}

/** A module with no Chronicle work anywhere below it. */
@Module({})
class PlainModule {}

const database = pgliteDatabase();
const opened: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((app) => app.close()));
  delete process.env.CHRONICLE_ENABLED;
});
afterAll(() => database.close());

async function start(
  enabled: string[] | undefined,
  extra: (DynamicModule | typeof PlainModule)[] = [],
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ChronicleModule.forRoot({
        database: { client: database.client(), schema: freshSchema('en') },
        tracking: FAST_TRACKING,
        enabled,
      }),
      WarehouseModule,
      LabelsModule,
      AuditModule,
      PlainModule,
      ...extra,
    ],
  }).compile();
  const app = await moduleRef.init();
  opened.push(app);
  return app;
}

const run = (app: INestApplicationContext, command: Command<string>) =>
  app.get(CommandBus).execute(command);

describe('enabled modules', () => {
  it('refuses a name that matches no module, listing the modules that hold handlers', async () => {
    const error = await start(['warehouse', 'shiping']).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnknownEnabledModuleError);
    const refused = error as UnknownEnabledModuleError;
    expect(refused.unknown).toEqual(['shiping']);
    expect(refused.message).toContain('enabled names "shiping"');
    for (const module of [
      'warehouse (WarehouseModule)',
      'floor (FloorModule)',
      'packing (PackingModule)',
      'labels (LabelsModule)',
      'audit (AuditModule)',
    ])
      expect(refused.message).toContain(module);
    expect(refused.message).not.toContain('PlainModule');
  });

  it('refuses CHRONICLE_ENABLED names that enable nothing, a module without handlers included', async () => {
    process.env.CHRONICLE_ENABLED = 'labels, plain';
    const error = await start(undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownEnabledModuleError);
    expect((error as Error).message).toContain(
      'CHRONICLE_ENABLED names "plain"',
    );
  });

  it('runs the handlers and consumers of the modules a named module imports, down the tree', async () => {
    const app = await start(['warehouse']);
    await expect(run(app, new Pack())).resolves.toBe('packed');
    await expect(
      app.get(TrackingService).health('enabled-packing-log'),
    ).resolves.toHaveLength(1);
    // A module beside it stays elsewhere.
    await expect(run(app, new Label())).rejects.toBeInstanceOf(NoHandlerError);
  });

  it('runs nothing of a module above the named one', async () => {
    const app = await start(['packing']);
    await expect(run(app, new Pack())).resolves.toBe('packed');
    const floorOnly = await start(['floor']);
    await expect(run(floorOnly, new Pack())).resolves.toBe('packed');
    await expect(run(floorOnly, new Label())).rejects.toBeInstanceOf(
      NoHandlerError,
    );
  });

  it('enables a global module by its own name or where it is listed, not everywhere it is visible', async () => {
    const elsewhere = await start(['labels']);
    await expect(run(elsewhere, new Audit())).rejects.toBeInstanceOf(
      NoHandlerError,
    );
    const named = await start(['audit']);
    await expect(run(named, new Audit())).resolves.toBe('audited');
    // Listed in a dynamic module's imports (read from Nest's container).
    const listed = await start(['compliance'], [ComplianceModule.register()]);
    await expect(run(listed, new Audit())).resolves.toBe('audited');
  });

  it('runs everything when nothing is named', async () => {
    const app = await start(undefined);
    await expect(run(app, new Pack())).resolves.toBe('packed');
    await expect(run(app, new Label())).resolves.toBe('labelled');
    await expect(run(app, new Audit())).resolves.toBe('audited');
  });
});
