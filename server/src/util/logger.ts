import winston from 'winston';

export type { Logger } from 'winston';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The process logger: one JSON object per line on stderr (stdout stays free for what a command prints),
 * with an ISO timestamp, like etcd's zap JSON logs. Components take child loggers
 * (`logger.child({ component: 'mvcc' })`), never a module-global one.
 */
export function newLogger(level: LogLevel = 'info', silent = false): winston.Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['debug', 'info', 'warn', 'error'] })],
  });
}
