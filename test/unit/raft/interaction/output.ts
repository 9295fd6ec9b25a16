import type { Logger } from '../../../../server/src/raft/logger.js';

/** Log levels in etcd's rafttest order; NONE silences everything but errors. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'NONE'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The output of the command being run: what the harness prints (Readys, messages) and what the Raft
 * core logs, interleaved in the order it happens, like etcd-io/raft's RedirectLogger.
 */
export class Output {
  private buf = '';
  level: LogLevel = 'INFO';

  quiet(): boolean {
    return this.level === 'NONE';
  }

  write(s: string): void {
    if (!this.quiet()) this.buf += s;
  }

  /** Writes `s` as one line, adding the newline if it has none. */
  line(s: string): void {
    this.write(s.endsWith('\n') ? s : s + '\n');
  }

  /** Returns what was written since the last take() and starts over. */
  take(): string {
    const s = this.buf;
    this.buf = '';
    return s;
  }

  /** Runs f, indenting every line it writes by two spaces (the `> 1 handling Ready` sections). */
  withIndent(f: () => void): void {
    const outer = this.buf;
    this.buf = '';
    try {
      f();
    } finally {
      const inner = this.buf;
      this.buf = outer;
      for (const l of inner.split('\n')) {
        if (l !== '') this.buf += '  ' + l + '\n';
      }
    }
  }

  /** Whether a line of `level` is printed at the current level. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(this.level) <= LOG_LEVELS.indexOf(level);
  }
}

/** The Raft core's logger port, writing `INFO <line>` / `WARN <line>` into the command's output. */
export class RedirectLogger implements Logger {
  constructor(private readonly out: Output) {}

  info(msg: string): void {
    if (this.out.enabled('INFO')) this.out.line(`INFO ${msg}`);
  }

  warn(msg: string): void {
    if (this.out.enabled('WARN')) this.out.line(`WARN ${msg}`);
  }
}
