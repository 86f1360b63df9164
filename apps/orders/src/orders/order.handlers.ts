import {
  AggregateRepository,
  CommandHandler,
  InjectAggregateRepository,
  QueryHandler,
  Scheduler,
  type Duration,
  type ICommandHandler,
  type IQueryHandler,
} from '@chronicle/core';
import { Inject } from '@nestjs/common';
import {
  CancelOrder,
  ConfirmOrder,
  GetOrder,
  PlaceOrder,
  type OrderView,
} from '@shop/contracts';
import { ExpireOrder, paymentDeadlineOf } from './expire-order.command.js';
import { Order } from './order.aggregate.js';
import { PAYMENT_TIMEOUT } from './payment-timeout.js';

@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
    private readonly scheduler: Scheduler,
    @Inject(PAYMENT_TIMEOUT) private readonly paymentTimeout: Duration,
  ) {}

  async execute({ orderId, customerId, lines }: PlaceOrder) {
    const order = this.orders.create(orderId);
    order.place(customerId, lines);
    await this.orders.save(order);
    // Written in the same transaction as the events: no order without its deadline.
    await this.scheduler.schedule(
      new ExpireOrder(orderId),
      { delay: this.paymentTimeout },
      { id: paymentDeadlineOf(orderId) },
    );
    return { orderId, total: order.total };
  }
}

@CommandHandler(ConfirmOrder)
export class ConfirmOrderHandler implements ICommandHandler<ConfirmOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
    private readonly scheduler: Scheduler,
  ) {}

  async execute({ orderId }: ConfirmOrder): Promise<void> {
    const order = await this.orders.load(orderId);
    order.confirm();
    await this.orders.save(order);
    await this.scheduler.cancel(paymentDeadlineOf(orderId));
  }
}

@CommandHandler(CancelOrder)
export class CancelOrderHandler implements ICommandHandler<CancelOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
    private readonly scheduler: Scheduler,
  ) {}

  async execute({ orderId, reason }: CancelOrder): Promise<void> {
    const order = await this.orders.load(orderId);
    order.cancel(reason);
    await this.orders.save(order);
    await this.scheduler.cancel(paymentDeadlineOf(orderId));
  }
}

@CommandHandler(ExpireOrder)
export class ExpireOrderHandler implements ICommandHandler<ExpireOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute({ orderId }: ExpireOrder): Promise<void> {
    const order = await this.orders.load(orderId);
    order.expire();
    await this.orders.save(order);
  }
}

@QueryHandler(GetOrder)
export class GetOrderHandler implements IQueryHandler<GetOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute({ orderId }: GetOrder): Promise<OrderView> {
    const order = await this.orders.load(orderId);
    return {
      orderId,
      status: order.status,
      total: order.total,
      lines: order.lines,
      version: order.version,
    };
  }
}
