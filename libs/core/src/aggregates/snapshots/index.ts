export { PostgresSnapshotStore } from './postgres-snapshot-store.js';
export type { SnapshotContext, SnapshotPolicy } from './snapshot-policy.js';
export {
  SnapshotStore,
  type SnapshotToWrite,
  type StoredSnapshot,
} from './snapshot-store.js';
export { SnapshotWriter } from './snapshot-writer.js';
