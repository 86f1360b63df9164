export { InventoryModule } from './inventory.module.js';
export { inventoryTypeOrm } from './inventory-typeorm.js';
export { StockItem } from './stock-item.aggregate.js';
export { StockLevel } from './stock-level.entity.js';
export { ReleaseStock, ReserveStock } from './stock.commands.js';
export { StockAdded, StockReleased, StockReserved } from './stock.events.js';
