import {
  Consumer,
  HandleEvent,
  OnReset,
  QueryHandler,
  type ConsumerContext,
  type IQueryHandler,
} from '@chronicle/core';
import { InjectRepository } from '@nestjs/typeorm';
import { GetStockLevels, type StockLevelView } from '@shop/contracts';
import type { Repository } from 'typeorm';
import { StockLevel } from './stock-level.entity.js';
import { StockAdded, StockReleased, StockReserved } from './stock.events.js';

/**
 * The stock-levels read model, in TypeORM entities. Each change is written
 * through the consumer's EntityManager, in the transaction that also moves
 * its position: replayed or retried, every event counts exactly once.
 */
@Consumer('inventory.stock-levels')
export class StockLevels {
  @HandleEvent(StockAdded, StockReserved, StockReleased)
  async onChange(
    event: StockAdded | StockReserved | StockReleased,
    _envelope: unknown,
    context: ConsumerContext,
  ): Promise<void> {
    const manager = await context.entityManager();
    const level =
      (await manager.findOneBy(StockLevel, { sku: event.sku })) ??
      Object.assign(new StockLevel(), {
        sku: event.sku,
        onHand: 0,
        reserved: 0,
      });
    if (event instanceof StockAdded) level.onHand += event.quantity;
    if (event instanceof StockReserved) level.reserved += event.quantity;
    if (event instanceof StockReleased) level.reserved -= event.quantity;
    await manager.save(level);
  }

  @OnReset()
  async clear(context: ConsumerContext): Promise<void> {
    await (await context.entityManager()).clear(StockLevel);
  }
}

@QueryHandler(GetStockLevels)
export class GetStockLevelsHandler implements IQueryHandler<GetStockLevels> {
  constructor(
    @InjectRepository(StockLevel)
    private readonly levels: Repository<StockLevel>,
  ) {}

  async execute(): Promise<StockLevelView[]> {
    const rows = await this.levels.find({ order: { sku: 'ASC' } });
    return rows.map(({ sku, onHand, reserved }) => ({
      sku,
      onHand,
      reserved,
      available: onHand - reserved,
    }));
  }
}
