import { pino, type Logger, type DestinationStream } from 'pino';
import { redactText, redactValue } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  name?: string;
}

/**
 * Structured JSON logs on stderr (stdout belongs to the host / CLI output).
 * Every record passes through `redactValue`, so a token in any field never leaves.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.SWITCHBOARD_LOG_LEVEL ?? 'info';
  return pino(
    {
      name: opts.name ?? 'switchboard',
      level,
      formatters: { log: (obj) => redactValue(obj) as Record<string, unknown> },
      hooks: {
        // Message strings are scrubbed too (e.g. an error text carrying a header).
        logMethod(args, method) {
          method.apply(this, args.map(scrubArg) as Parameters<typeof method>);
        },
      },
    },
    opts.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** Strings and Errors given as log arguments; pino turns an Error's message into `msg`. */
function scrubArg(a: unknown): unknown {
  if (typeof a === 'string') return redactText(a);
  if (a instanceof Error) {
    const e = new Error(redactText(a.message));
    e.name = a.name;
    e.stack = a.stack ? redactText(a.stack) : undefined;
    return e;
  }
  return a;
}

let shared: Logger | undefined;
export function defaultLogger(): Logger {
  shared ??= createLogger();
  return shared;
}
