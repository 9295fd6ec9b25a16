// CtlIO for a real process: stdout/stderr as raw bytes, stdin read lazily, the environment in order.
import { bufferOf } from './byte-string.js';
import { StreamStdin, type CtlIO, type Sink } from './io.js';

/**
 * A sink on a process stream that remembers its pending writes, so exit can wait for them. When the reader
 * goes away (EPIPE, e.g. `cairnctl get --prefix '' | head -1`) the rest of the output is dropped quietly.
 */
class StreamSink implements Sink {
  private pending: Promise<void> = Promise.resolve();
  private broken = false;

  constructor(private readonly stream: NodeJS.WriteStream) {
    stream.on('error', () => {
      this.broken = true;
    });
  }

  write(bytes: string): void {
    if (bytes.length === 0 || this.broken) return;
    const done = new Promise<void>((resolve) => {
      this.stream.write(bufferOf(bytes), () => resolve());
    });
    this.pending = this.pending.then(() => done);
  }

  flushed(): Promise<void> {
    return this.pending;
  }
}

export interface ProcessIO extends CtlIO {
  /** Resolves once everything written has been handed to the OS. */
  flush(): Promise<void>;
  /** ETCDCTL_API, which is not part of `env` (etcdctl unsets it before looking at the environment). */
  apiVersion: string;
  close(): void;
}

export function processIO(): ProcessIO {
  const stdout = new StreamSink(process.stdout);
  const stderr = new StreamSink(process.stderr);
  const stdin = new StreamStdin(process.stdin);
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(process.env)) {
    if (k !== 'ETCDCTL_API' && v !== undefined) env.set(k, v);
  }
  const origin = process.hrtime.bigint();
  const wallAtOrigin = Date.now();
  return {
    stdout,
    stderr,
    stdin,
    env,
    apiVersion: process.env['ETCDCTL_API'] ?? '',
    wallClock: () => {
      const ns = process.hrtime.bigint() - origin;
      const ms = wallAtOrigin + Number(ns / 1_000_000n);
      const date = new Date(ms);
      const micros = (ms % 1000) * 1000 + Number((ns / 1000n) % 1000n);
      return { date, micros };
    },
    monotonicNs: () => process.hrtime.bigint(),
    random: () => Math.random(),
    flush: async () => {
      await Promise.all([stdout.flushed(), stderr.flushed()]);
    },
    close: () => stdin.close(),
  };
}
