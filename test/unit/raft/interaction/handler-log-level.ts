import { LOG_LEVELS, type LogLevel } from './output.js';
import { bareArg } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/**
 * log-level debug|info|warn|error|none: which core log lines the transcript shows from now on. `none`
 * also silences the harness (handy for set-up), except for errors.
 */
export function handleLogLevel(env: InteractionEnv, d: TestData): void {
  const name = bareArg(d, 0).toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(name)) {
    throw new Error(`${d.pos}: log level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  env.output.level = name as LogLevel;
}
