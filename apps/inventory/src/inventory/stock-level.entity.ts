import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A row of the stock-levels read model, kept by the StockLevels consumer. */
@Entity({ name: 'stock_levels' })
export class StockLevel {
  @PrimaryColumn('text')
  sku: string;

  @Column('int')
  onHand: number;

  @Column('int')
  reserved: number;
}
