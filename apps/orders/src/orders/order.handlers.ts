import {
  AggregateRepository,
  CommandHandler,
  InjectAggregateRepository,
  QueryHandler,
  type ICommandHandler,
  type IQueryHandler,
} from '@chronicle/core';
import {
  CancelOrder,
  ConfirmOrder,
  GetOrder,
  PlaceOrder,
  type OrderView,
} from '@shop/contracts';
import { Order } from './order.aggregate.js';

@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder> {
  constructor(
    @InjectAggregateRepository(Order)
    private readonly orders: AggregateRepository<Order>,
  ) {}

  async execute({ orderId, customerId, lines }: PlaceOrder) {
    const order = this.orders.create(orderId);
    order.place(customerId, lines);
    // Its payment deadline is the order-fulfilment process manager's, set when it sees OrderPlaced.
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
      lines: order.lines,
      version: order.version,
    };
  }
}
