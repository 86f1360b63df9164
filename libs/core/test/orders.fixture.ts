import { Injectable } from '@nestjs/common';
import {
  IsInt,
  IsNotEmpty,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  Command,
  CommandHandler,
  CommandType,
  EventsHandler,
  EventType,
  InjectAggregateRepository,
  Query,
  QueryHandler,
  QueryType,
  UnitOfWork,
  envelopeOf,
  type ICommandHandler,
  type IEventHandler,
  type IQueryHandler,
  type StoredEvent,
} from '../src/index.js';

// A small order domain shared by the module's integration tests.

export class OrderLine {
  @IsString()
  @IsNotEmpty()
  sku: string;

  @IsInt()
  @Min(1)
  quantity: number;
}

@CommandType('test.PlaceOrder')
export class PlaceOrder extends Command<{ orderId: string; version: number }> {
  @IsString()
  @IsNotEmpty()
  orderId: string;

  @ValidateNested({ each: true })
  @Type(() => OrderLine)
  lines: OrderLine[];

  constructor(orderId: string, lines: OrderLine[]) {
    super();
    this.orderId = orderId;
    this.lines = lines;
  }
}

@CommandType('test.ConfirmOrder')
export class ConfirmOrder extends Command<number> {
  constructor(readonly orderId: string) {
    super();
  }
}

/** Confirms an order and then fails: nothing it did may be stored or published. */
@CommandType('test.ConfirmAndFail')
export class ConfirmAndFail extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

@QueryType('test.GetOrder')
export class GetOrder extends Query<{
  status: string;
  lines: number;
  version: number;
}> {
  @IsString()
  @IsNotEmpty()
  orderId: string;

  constructor(orderId: string) {
    super();
    this.orderId = orderId;
  }
}

@EventType('test.OrderPlaced')
export class OrderPlaced {
  constructor(
    readonly orderId: string,
    readonly lines: { sku: string; quantity: number }[],
  ) {}
}

@EventType('test.OrderConfirmed', { revision: 2 })
export class OrderConfirmed {
  constructor(readonly orderId: string) {}
}

export class OrderAlreadyPlaced extends Error {}

@Aggregate({ type: 'test.Order' })
export class Order extends AggregateRoot {
  status: 'new' | 'placed' | 'confirmed' = 'new';
  lines = 0;

  place(lines: OrderLine[]): void {
    if (this.status !== 'new')
      throw new OrderAlreadyPlaced(`Order ${this.id} exists`);
    this.apply(
      new OrderPlaced(
        this.id,
        lines.map((l) => ({ ...l })),
      ),
    );
  }

  confirm(): void {
    if (this.status === 'placed') this.apply(new OrderConfirmed(this.id));
  }

  @Apply(OrderPlaced)
  onPlaced(event: OrderPlaced): void {
    this.status = 'placed';
    this.lines = event.lines.length;
  }

  @Apply(OrderConfirmed)
  onConfirmed(): void {
    this.status = 'confirmed';
  }
}

/** Lets a test interfere with a handler between its load and its save. */
export const hooks = {
  attempts: 0,
  beforeSave: async (): Promise<void> => undefined,
};

@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute(command: PlaceOrder) {
    hooks.attempts++;
    const order = await this.orders.loadOrCreate(command.orderId);
    order.place(command.lines);
    await this.orders.save(order);
    return { orderId: order.id, version: order.version };
  }
}

@CommandHandler(ConfirmOrder)
export class ConfirmOrderHandler implements ICommandHandler<ConfirmOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute(command: ConfirmOrder) {
    hooks.attempts++;
    const order = await this.orders.load(command.orderId);
    order.confirm();
    await hooks.beforeSave();
    await this.orders.save(order);
    return order.version;
  }
}

@CommandHandler(ConfirmAndFail)
export class ConfirmAndFailHandler implements ICommandHandler<ConfirmAndFail> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute(command: ConfirmAndFail): Promise<void> {
    const order = await this.orders.load(command.orderId);
    order.confirm();
    await this.orders.save(order);
    throw new Error('payment service said no');
  }
}

@QueryHandler(GetOrder)
export class GetOrderHandler implements IQueryHandler<GetOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute(query: GetOrder) {
    const order = await this.orders.load(query.orderId);
    return { status: order.status, lines: order.lines, version: order.version };
  }
}

/** Confirms an order and writes a note row in the same transaction; may fail afterwards. */
@CommandType('test.ConfirmWithNote')
export class ConfirmWithNote extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly table: string,
    readonly fail: boolean,
  ) {
    super();
  }
}

@CommandHandler(ConfirmWithNote)
export class ConfirmWithNoteHandler implements ICommandHandler<ConfirmWithNote> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async execute({ orderId, table, fail }: ConfirmWithNote): Promise<void> {
    const order = await this.orders.load(orderId);
    order.confirm();
    await this.orders.save(order);
    await this.unitOfWork.enlist(async (tx) => {
      await tx.query(`INSERT INTO ${table} (order_id) VALUES ($1::text)`, [
        orderId,
      ]);
    });
    if (fail) throw new Error('failed after enlisting');
  }
}

/** Records what in-process event handlers received, and what the store held at that moment. */
@Injectable()
@EventsHandler(OrderPlaced, OrderConfirmed)
export class OrderEventsRecorder implements IEventHandler<
  OrderPlaced | OrderConfirmed
> {
  static seen: { event: object; envelope?: StoredEvent<object> }[] = [];

  handle(event: OrderPlaced | OrderConfirmed): void {
    OrderEventsRecorder.seen.push({
      event,
      envelope: envelopeOf<StoredEvent<object>>(event),
    });
  }
}

export const orderHandlers = [
  PlaceOrderHandler,
  ConfirmOrderHandler,
  ConfirmAndFailHandler,
  ConfirmWithNoteHandler,
  GetOrderHandler,
  OrderEventsRecorder,
];
