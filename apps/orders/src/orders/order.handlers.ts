import {
  AggregateRepository,
  CommandHandler,
  InjectAggregateRepository,
  QueryHandler,
  type ICommandHandler,
  type IQueryHandler,
} from '@chronicle/core';
import { Order } from './order.aggregate.js';
import { CancelOrder, ConfirmOrder, PlaceOrder } from './order.commands.js';
import { GetOrder, type OrderView } from './order.queries.js';

@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute({ orderId, customerId, lines }: PlaceOrder) {
    const order = this.orders.create(orderId);
    order.place(customerId, lines);
    await this.orders.save(order);
    return { orderId, total: order.total };
  }
}

@CommandHandler(ConfirmOrder)
export class ConfirmOrderHandler implements ICommandHandler<ConfirmOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute({ orderId }: ConfirmOrder): Promise<void> {
    const order = await this.orders.load(orderId);
    order.confirm();
    await this.orders.save(order);
  }
}

@CommandHandler(CancelOrder)
export class CancelOrderHandler implements ICommandHandler<CancelOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute({ orderId, reason }: CancelOrder): Promise<void> {
    const order = await this.orders.load(orderId);
    order.cancel(reason);
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
      version: order.version,
    };
  }
}
