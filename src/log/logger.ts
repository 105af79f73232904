import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { redactText, redactValue } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  name?: string;
  /** `pretty` (readable lines), `json`, or `auto` (default): pretty when stderr is a terminal. */
  format?: LogFormat;
}

export type LogFormat = 'json' | 'pretty' | 'auto';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The format to use: the option, else SWITCHBOARD_LOG_FORMAT, else pretty on a terminal. */
export function logFormat(opt: LogFormat | undefined, env: NodeJS.ProcessEnv = process.env, tty = process.stderr.isTTY === true): 'json' | 'pretty' {
  const f = opt ?? (env.SWITCHBOARD_LOG_FORMAT as LogFormat | undefined) ?? 'auto';
  if (f === 'json' || f === 'pretty') return f;
  return tty ? 'pretty' : 'json';
}

/**
 * Structured logs on stderr (stdout belongs to the host / CLI output): JSON for machines,
 * readable lines on a terminal. Every record passes through `redactValue` (the pretty
 * printer formats records that are already redacted), so a token in any field never leaves.
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
    opts.destination ?? (logFormat(opts.format) === 'pretty' ? pretty({ destination: 2, sync: true, colorize: process.env.NO_COLOR === undefined, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }) : pino.destination({ fd: 2, sync: true })),
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
