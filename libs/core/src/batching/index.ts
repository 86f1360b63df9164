export { StatementBatches } from './statement-batches.js';
