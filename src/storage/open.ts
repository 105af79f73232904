// The configured thread store: a dataset file, a PostgreSQL database, or memory with owners and thread rooms kept
// beside the bindings (they outlive a restart, as the bindings do).
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/schema.js';
import type { StatePaths } from '../config/state-paths.js';
import { DatasetStore } from './dataset.js';
import { MemoryStore } from './memory.js';
import { PostgresStore } from './postgres/store.js';
import type { ThreadStore } from './types.js';

export async function openConfiguredStore(config: SwitchboardConfig, paths: StatePaths, log: Logger): Promise<ThreadStore> {
  const s = config.storage;
  if (s.kind === 'dataset') return DatasetStore.open(paths.storageFile, log);
  if (s.kind === 'postgres') return PostgresStore.open(s.url!, { log });
  return new MemoryStore(s.kind, { metaFile: paths.storageFile });
}
