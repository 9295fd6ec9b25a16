import winston from 'winston';
import type { Logger } from 'winston';
import { splitKey } from './object-key.js';

export type { Logger } from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface OperatorLoggerOptions {
  level?: LogLevel;
  /** The `component` field of every line; children narrow it (`kvcluster-controller`, `leader-election`). */
  component?: string;
  /** Where lines go; stderr by default (stdout stays free for anything a command prints). */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

/**
 * The operator's root logger: one JSON object per line with `timestamp`, `level`, `message` and
 * `component`, like the server's logs and controller-runtime's zap JSON. Each controller, elector or
 * informer gets a child (`componentLogger`), never a module-global logger, so several operators can run in
 * one test process with their own output.
 */
export function newOperatorLogger(opts: OperatorLoggerOptions = {}): Logger {
  const transport =
    opts.stream !== undefined
      ? new winston.transports.Stream({ stream: opts.stream })
      : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  const root = winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent ?? false,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  // A child, not `defaultMeta`: winston applies defaultMeta over a child's fields, so a child could not
  // narrow `component`.
  return root.child({ component: opts.component ?? 'cairn-operator' });
}

export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}

/** A child logger for one reconcile: every line carries the object's `namespace` and `name`. */
export function reconcileLogger(parent: Logger, key: string): Logger {
  try {
    const { namespace, name } = splitKey(key);
    return parent.child({ namespace, name });
  } catch {
    // A malformed key is a bug upstream, but logging must never be what fails: keep the raw key.
    return parent.child({ key });
  }
}

export function isLogLevel(level: string): level is LogLevel {
  return level === 'error' || level === 'warn' || level === 'info' || level === 'debug';
}

/** An error's message for a log field (a thrown non-Error is stringified). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
