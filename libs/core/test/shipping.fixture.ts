import { Inject, Module } from '@nestjs/common';
import { IsNotEmpty, IsString, Min } from 'class-validator';
import {
  ChronicleError,
  Command,
  CommandHandler,
  CommandType,
  ErrorType,
  MessageGateway,
  Query,
  QueryHandler,
  QueryType,
  SQL_CLIENT,
  type ICommandHandler,
  type IQueryHandler,
  type SqlClient,
} from '../src/index.js';

// Messages shared by the apps of the transport tests, as a shared library would be.

export const INSTANCE = Symbol('instance');

@CommandType('ship.ShipParcel')
export class ShipParcel extends Command<{
  parcelId: string;
  handledBy: string;
}> {
  @IsString()
  @IsNotEmpty()
  parcelId: string;

  @Min(0)
  weightKg: number;

  constructor(parcelId: string, weightKg: number) {
    super();
    this.parcelId = parcelId;
    this.weightKg = weightKg;
  }
}

@CommandType('ship.RefuseParcel')
export class RefuseParcel extends Command<void> {
  constructor(readonly reason: string) {
    super();
  }
}

@CommandType('ship.SlowParcel')
export class SlowParcel extends Command<string> {
  constructor(
    readonly parcelId: string,
    readonly ms: number,
  ) {
    super();
  }
}

/** Waits at the gate: lets a test hold handlers running, and count them. */
@CommandType('ship.HoldParcel')
export class HoldParcel extends Command<string> {
  constructor(readonly parcelId: string) {
    super();
  }
}

/** Sends a ShipParcel without waiting, then fails when asked to. */
@CommandType('ship.ForwardParcel')
export class ForwardParcel extends Command<string> {
  constructor(
    readonly parcelId: string,
    readonly fail: boolean,
  ) {
    super();
  }
}

/** Fails in its handler with an error nobody declared: a database error. */
@CommandType('ship.CrashParcel')
export class CrashParcel extends Command<void> {
  constructor(readonly parcelId: string) {
    super();
  }
}

/** Returns what JSON changes: a Date. */
@CommandType('ship.StampParcel')
export class StampParcel extends Command<{
  parcelId: string;
  stampedAt: Date;
}> {
  constructor(readonly parcelId: string) {
    super();
  }
}

/** Nobody handles this one. */
@CommandType('ship.Unserved')
export class Unserved extends Command<void> {}

/** Nobody handles this one either, and it has rules to check. */
@CommandType('ship.UnservedParcel')
export class UnservedParcel extends Command<void> {
  @IsString()
  @IsNotEmpty()
  parcelId: string;

  constructor(parcelId: string) {
    super();
    this.parcelId = parcelId;
  }
}

@QueryType('ship.CountParcels')
export class CountParcels extends Query<{
  shipped: number;
  handledBy: string;
}> {}

/** A declared domain error: it crosses the wire as itself, with its fields. */
@ErrorType('ship.ParcelRefused')
export class ParcelRefused extends ChronicleError {
  readonly code = 'PARCEL_REFUSED';

  constructor(
    readonly reason: string,
    readonly refusedAt: Date,
  ) {
    super(reason);
  }
}

/** What one app instance saw, readable by the test. */
export class Ledger {
  shipped = 0;
  slowStarted = 0;
  slowFinished = 0;
  /** HoldParcel handlers: the parcels started, how many hold now, and the most at once. */
  readonly held: string[] = [];
  holding = 0;
  mostHeldAtOnce = 0;
  /** The ids ForwardParcel's sendAndForget returned. */
  readonly forwarded: string[] = [];
}

/** Where HoldParcel handlers wait, shared by every app of the test process, until the test opens it. */
export class Gate {
  private opened!: Promise<void>;
  private release!: () => void;

  constructor() {
    this.close();
  }

  close(): void {
    this.opened = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release();
  }

  pass(): Promise<void> {
    return this.opened;
  }
}

export const gate = new Gate();

@CommandHandler(ShipParcel)
export class ShipParcelHandler implements ICommandHandler<ShipParcel> {
  constructor(
    @Inject(INSTANCE) private readonly instance: string,
    private readonly ledger: Ledger,
  ) {}

  async execute({ parcelId }: ShipParcel) {
    this.ledger.shipped++;
    return { parcelId, handledBy: this.instance };
  }
}

@CommandHandler(RefuseParcel)
export class RefuseParcelHandler implements ICommandHandler<RefuseParcel> {
  async execute({ reason }: RefuseParcel): Promise<void> {
    throw new ParcelRefused(reason, new Date('2030-01-02T03:04:05Z'));
  }
}

/** Queries a table that is not there: the error's text and SQLSTATE must stay in this app. */
@CommandHandler(CrashParcel)
export class CrashParcelHandler implements ICommandHandler<CrashParcel> {
  constructor(@Inject(SQL_CLIENT) private readonly sql: SqlClient) {}

  async execute(): Promise<void> {
    await this.sql.query('SELECT * FROM no_such_parcel_table');
  }
}

@CommandHandler(StampParcel)
export class StampParcelHandler implements ICommandHandler<StampParcel> {
  async execute({ parcelId }: StampParcel) {
    return { parcelId, stampedAt: new Date('2030-01-02T03:04:05Z') };
  }
}

@CommandHandler(SlowParcel)
export class SlowParcelHandler implements ICommandHandler<SlowParcel> {
  constructor(private readonly ledger: Ledger) {}

  async execute({ parcelId, ms }: SlowParcel): Promise<string> {
    this.ledger.slowStarted++;
    await new Promise((r) => setTimeout(r, ms));
    this.ledger.slowFinished++;
    return `shipped ${parcelId}`;
  }
}

@CommandHandler(HoldParcel)
export class HoldParcelHandler implements ICommandHandler<HoldParcel> {
  constructor(private readonly ledger: Ledger) {}

  async execute({ parcelId }: HoldParcel): Promise<string> {
    const { ledger } = this;
    ledger.held.push(parcelId);
    ledger.holding++;
    ledger.mostHeldAtOnce = Math.max(ledger.mostHeldAtOnce, ledger.holding);
    try {
      await gate.pass();
    } finally {
      ledger.holding--;
    }
    return `held ${parcelId}`;
  }
}

@CommandHandler(ForwardParcel)
export class ForwardParcelHandler implements ICommandHandler<ForwardParcel> {
  constructor(
    private readonly gateway: MessageGateway,
    private readonly ledger: Ledger,
  ) {}

  async execute({ parcelId, fail }: ForwardParcel): Promise<string> {
    const id = await this.gateway.sendAndForget(new ShipParcel(parcelId, 1));
    this.ledger.forwarded.push(id);
    if (fail)
      throw new ParcelRefused(
        `not forwarding ${parcelId}`,
        new Date('2030-01-02T03:04:05Z'),
      );
    return id;
  }
}

@QueryHandler(CountParcels)
export class CountParcelsHandler implements IQueryHandler<CountParcels> {
  constructor(
    @Inject(INSTANCE) private readonly instance: string,
    private readonly ledger: Ledger,
  ) {}

  async execute() {
    return { shipped: this.ledger.shipped, handledBy: this.instance };
  }
}

/** The shipping handlers; each app that imports it gets its own Ledger. */
@Module({
  providers: [
    Ledger,
    ShipParcelHandler,
    RefuseParcelHandler,
    CrashParcelHandler,
    StampParcelHandler,
    SlowParcelHandler,
    HoldParcelHandler,
    ForwardParcelHandler,
    CountParcelsHandler,
  ],
  exports: [Ledger],
})
export class ShippingModule {}
