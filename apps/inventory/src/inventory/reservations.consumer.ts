import { CommandBus, Consumer, HandleEvent, QueryBus } from '@chronicle/core';
import { GetOrder, OrderCancelled, OrderPlaced } from '@shop/contracts';
import { ReleaseStock, ReserveStock } from './stock.commands.js';

/** Holds stock for every placed order, and gives it back when the order is cancelled. */
@Consumer('inventory.reservations')
export class Reservations {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @HandleEvent(OrderPlaced)
  async onOrderPlaced({ orderId, lines }: OrderPlaced): Promise<void> {
    await this.commands.execute(
      new ReserveStock(
        orderId,
        lines.map(({ sku, quantity }) => ({ sku, quantity })),
      ),
    );
  }

  @HandleEvent(OrderCancelled)
  async onOrderCancelled({ orderId }: OrderCancelled): Promise<void> {
    // The cancellation names the order, not its lines: orders knows them.
    const order = await this.queries.execute(new GetOrder(orderId));
    await this.commands.execute(
      new ReleaseStock(
        orderId,
        order.lines.map((line) => line.sku),
      ),
    );
  }
}
