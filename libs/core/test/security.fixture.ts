import { Injectable, Module } from '@nestjs/common';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandBus,
  CommandHandler,
  CommandType,
  Consumer,
  CurrentUser,
  EventType,
  HandleEvent,
  HandleSchedule,
  Handles,
  InjectAggregateRepository,
  MessageContext,
  ProcessManager,
  ProcessManagerBase,
  StartedBy,
  Public,
  Query,
  QueryHandler,
  QueryType,
  RequiresRole,
  RequiresUser,
  Scheduler,
  ScheduleType,
  type ICommandHandler,
  type IQueryHandler,
  type StoredEvent,
  type User,
} from '../src/index.js';

// A vault only admins (or ops) may open, and what its openings cause: a
// command sent by the handler, an event, a consumer that only audits events
// of auditors, and schedules. For the users-and-roles tests.

@CommandType('sec.OpenVault')
export class OpenVault extends Command<string | undefined> {
  constructor(readonly vaultId: string) {
    super();
  }
}

/** Sent by OpenVault's handler: handled under `requireUser` (no rule of its own). */
@CommandType('sec.NoteOpening')
export class NoteOpening extends Command<void> {
  constructor(readonly vaultId: string) {
    super();
  }
}

/** The rule is on the message class: any user. */
@RequiresUser()
@QueryType('sec.WhoAmI')
export class WhoAmI extends Query<User | null> {}

@QueryType('sec.Ping')
export class Ping extends Query<string> {}

/** The message class asks for a role; its handler class says public, and wins. */
@RequiresRole('admin')
@QueryType('sec.Motd')
export class Motd extends Query<string> {}

/** Schedules a Reminder and a Lockdown for the vault, as whoever sends it. */
@CommandType('sec.PlanReminders')
export class PlanReminders extends Command<void> {
  constructor(readonly vaultId: string) {
    super();
  }
}

@EventType('sec.VaultOpened')
export class VaultOpened {
  constructor(readonly vaultId: string) {}
}

@ScheduleType('sec.Reminder')
export class Reminder {
  constructor(readonly vaultId: string) {}
}

@ScheduleType('sec.Lockdown')
export class Lockdown {
  constructor(readonly vaultId: string) {}
}

/** Sent by the watchdog process for every opened vault: only admins may seal. */
@CommandType('sec.SealVault')
export class SealVault extends Command<void> {
  constructor(readonly vaultId: string) {
    super();
  }
}

/** The watchdog's deadline message. */
@EventType('sec.VaultRecheck')
export class VaultRecheck {
  constructor(readonly vaultId: string) {}
}

@ScheduleType('sec.Sweep')
export class Sweep {
  constructor(readonly n: number) {}
}

@Aggregate({ type: 'sec.Vault' })
export class Vault extends AggregateRoot {
  opened = false;

  open(): void {
    this.apply(new VaultOpened(this.id));
  }

  @Apply(VaultOpened)
  onOpened(): void {
    this.opened = true;
  }
}

/** What the serving side saw, as the handlers ran. */
@Injectable()
export class VaultWitness {
  readonly notes: { vaultId: string; user: unknown }[] = [];
  readonly audited: { vaultId: string; user: unknown }[] = [];
  readonly reminded: { vaultId: string; user: unknown }[] = [];
  readonly lockdowns: string[] = [];
  readonly sweeps: { n: number; user: unknown }[] = [];
  readonly seals: { vaultId: string; user: unknown }[] = [];
  readonly rechecks: { vaultId: string; user: unknown }[] = [];
}

/** What the watchdog's deadline step saw, kept at module level as processes.fixture.ts keeps its records. */
export const watchdogSeen: { vaultId: string; user: unknown }[] = [];

/** Seals every opened vault and rechecks it: its command and its deadline run as the opener. */
@ProcessManager('vault-watchdog')
export class VaultWatchdog extends ProcessManagerBase<{ vaultId: string }> {
  initialState() {
    return { vaultId: '' };
  }

  @StartedBy(VaultOpened, { key: 'vaultId' })
  onOpened(event: VaultOpened): void {
    this.state = { vaultId: event.vaultId };
    this.send(new SealVault(event.vaultId));
    this.deadline('recheck', 0, new VaultRecheck(event.vaultId));
  }

  @Handles(VaultRecheck, { key: 'vaultId' })
  onRecheck(recheck: VaultRecheck): void {
    watchdogSeen.push({
      vaultId: recheck.vaultId,
      user: MessageContext.current()?.metadata.user,
    });
    this.end();
  }
}

@RequiresRole('admin')
@CommandHandler(SealVault)
export class SealVaultHandler implements ICommandHandler<SealVault> {
  constructor(
    private readonly witness: VaultWitness,
    private readonly currentUser: CurrentUser,
  ) {}

  execute(command: SealVault): Promise<void> {
    this.witness.seals.push({
      vaultId: command.vaultId,
      user: this.currentUser.get(),
    });
    return Promise.resolve();
  }
}

@RequiresRole('admin', 'ops')
@CommandHandler(OpenVault)
export class OpenVaultHandler implements ICommandHandler<OpenVault> {
  constructor(
    @InjectAggregateRepository(Vault)
    private readonly vaults: AggregateRepository<Vault>,
    private readonly commands: CommandBus,
    private readonly currentUser: CurrentUser,
  ) {}

  async execute(command: OpenVault): Promise<string | undefined> {
    const vault = await this.vaults.loadOrCreate(command.vaultId);
    vault.open();
    await this.vaults.save(vault);
    await this.commands.execute(new NoteOpening(command.vaultId));
    return this.currentUser.get()?.id;
  }
}

@CommandHandler(NoteOpening)
export class NoteOpeningHandler implements ICommandHandler<NoteOpening> {
  constructor(private readonly witness: VaultWitness) {}

  execute(command: NoteOpening): Promise<void> {
    // The user as it arrived, in the metadata of the command the handler sent.
    this.witness.notes.push({
      vaultId: command.vaultId,
      user: MessageContext.current()?.metadata.user,
    });
    return Promise.resolve();
  }
}

@QueryHandler(WhoAmI)
export class WhoAmIHandler implements IQueryHandler<WhoAmI> {
  constructor(private readonly currentUser: CurrentUser) {}

  execute(): Promise<User | null> {
    return Promise.resolve(this.currentUser.get() ?? null);
  }
}

@Public()
@QueryHandler(Ping)
export class PingHandler implements IQueryHandler<Ping> {
  execute(): Promise<string> {
    return Promise.resolve('pong');
  }
}

@Public()
@QueryHandler(Motd)
export class MotdHandler implements IQueryHandler<Motd> {
  execute(): Promise<string> {
    return Promise.resolve('welcome');
  }
}

@CommandHandler(PlanReminders)
export class PlanRemindersHandler implements ICommandHandler<PlanReminders> {
  constructor(private readonly scheduler: Scheduler) {}

  async execute(command: PlanReminders): Promise<void> {
    await this.scheduler.schedule(
      new Reminder(command.vaultId),
      { delay: 0 },
      { id: `reminder-${command.vaultId}` },
    );
    await this.scheduler.schedule(
      new Lockdown(command.vaultId),
      { delay: 0 },
      { id: `lockdown-${command.vaultId}` },
    );
  }
}

/** Audits only events whose user is an auditor: others are passed over. */
@RequiresRole('auditor')
@Consumer('vault-audit')
export class VaultAudit {
  constructor(private readonly witness: VaultWitness) {}

  @HandleEvent(VaultOpened)
  onOpened(event: VaultOpened, envelope: StoredEvent): void {
    this.witness.audited.push({
      vaultId: event.vaultId,
      user: envelope.metadata.user,
    });
  }
}

@RequiresRole('admin')
@Injectable()
export class Reminders {
  constructor(
    private readonly witness: VaultWitness,
    private readonly currentUser: CurrentUser,
  ) {}

  @HandleSchedule(Reminder)
  remind(reminder: Reminder): void {
    this.witness.reminded.push({
      vaultId: reminder.vaultId,
      user: this.currentUser.get(),
    });
  }
}

/** Nobody is root: every delivery is refused. */
@RequiresRole('root')
@Injectable()
export class Lockdowns {
  constructor(private readonly witness: VaultWitness) {}

  @HandleSchedule(Lockdown)
  lock(lockdown: Lockdown): void {
    this.witness.lockdowns.push(lockdown.vaultId);
  }
}

@RequiresUser()
@Injectable()
export class Sweeper {
  constructor(
    private readonly witness: VaultWitness,
    private readonly currentUser: CurrentUser,
  ) {}

  @HandleSchedule(Sweep)
  sweep(sweep: Sweep): void {
    this.witness.sweeps.push({ n: sweep.n, user: this.currentUser.get() });
  }
}

/** The vault's app: every handler above. */
@Module({
  imports: [ChronicleModule.forFeature([Vault])],
  providers: [
    VaultWitness,
    OpenVaultHandler,
    NoteOpeningHandler,
    WhoAmIHandler,
    PingHandler,
    MotdHandler,
    PlanRemindersHandler,
    VaultAudit,
    Reminders,
    Lockdowns,
    Sweeper,
    VaultWatchdog,
    SealVaultHandler,
  ],
})
export class VaultModule {}
