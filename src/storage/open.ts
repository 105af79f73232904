// The configured thread store: a dataset file, or memory with owners and thread rooms kept
// beside the bindings (they outlive a restart, as the bindings do).
import path from 'node:path';
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/schema.js';
import { DatasetStore } from './dataset.js';
import { MemoryStore } from './memory.js';
import type { ThreadStore } from './types.js';

export async function openConfiguredStore(config: SwitchboardConfig, baseDir: string, log: Logger): Promise<ThreadStore> {
  const s = config.storage;
  if (s.kind === 'dataset') return DatasetStore.open(path.resolve(baseDir, s.path), log);
  return new MemoryStore(s.kind, { metaFile: path.resolve(baseDir, config.sessions.bindingsDir, 'sessions.json') });
}
