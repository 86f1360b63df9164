import {
  AggregateRepository,
  CommandHandler,
  InjectAggregateRepository,
  type ICommandHandler,
} from '@chronicle/core';
import { AddStock } from '@shop/contracts';
import { ReleaseStock, ReserveStock } from './stock.commands.js';
import { StockItem } from './stock-item.aggregate.js';

@CommandHandler(AddStock)
export class AddStockHandler implements ICommandHandler<AddStock> {
  constructor(
    @InjectAggregateRepository(StockItem)
    private readonly items: AggregateRepository<StockItem>,
  ) {}

  async execute({ sku, quantity }: AddStock) {
    const item = await this.items.loadOrCreate(sku);
    item.add(quantity);
    await this.items.save(item);
    return { sku, onHand: item.onHand };
  }
}

@CommandHandler(ReserveStock)
export class ReserveStockHandler implements ICommandHandler<ReserveStock> {
  constructor(
    @InjectAggregateRepository(StockItem)
    private readonly items: AggregateRepository<StockItem>,
  ) {}

  async execute({ orderId, lines }: ReserveStock) {
    const items: StockItem[] = [];
    for (const line of lines)
      items.push(await this.items.loadOrCreate(line.sku));
    // Consumers deliver at least once: the same order may come again.
    const short = lines.findIndex(
      (line, i) => !items[i].canReserve(orderId, line.quantity),
    );
    if (short >= 0) {
      items[short].reportShortage(orderId, lines[short].quantity);
      await this.items.save(items[short]);
      return { reserved: false };
    }
    // Every SKU's stream in the command's one transaction: all held, or none.
    for (const [i, line] of lines.entries()) {
      items[i].reserve(orderId, line.quantity);
      await this.items.save(items[i]);
    }
    return { reserved: true };
  }
}

@CommandHandler(ReleaseStock)
export class ReleaseStockHandler implements ICommandHandler<ReleaseStock> {
  constructor(
    @InjectAggregateRepository(StockItem)
    private readonly items: AggregateRepository<StockItem>,
  ) {}

  async execute({ orderId, skus }: ReleaseStock): Promise<void> {
    for (const sku of skus) {
      const item = await this.items.find(sku);
      if (!item) continue;
      item.release(orderId);
      await this.items.save(item);
    }
  }
}
