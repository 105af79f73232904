// A logger that writes into memory, so tests can read (and grep) what was logged.
import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { createLogger, type Logger } from '../../src/log/logger.js';

export function memoryLogger(level = 'debug'): { log: Logger; lines: () => string[]; records: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level, destination: dest as unknown as DestinationStream });
  const lines = () => chunks.join('').split('\n').filter(Boolean);
  return { log, lines, records: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}
