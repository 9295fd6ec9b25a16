// CtlIO for a real process: stdout/stderr as raw bytes, stdin read lazily, the environment in order.
import { spawn } from 'node:child_process';
import { bufferOf, textOf } from './byte-string.js';
import { goQuote } from './go-quote.js';
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
    runCommand: async (argv, extraEnv) => {
      await Promise.all([stdout.flushed(), stderr.flushed()]);
      return runChild(argv, extraEnv);
    },
  };
}

/** Go's signal names for exec's "signal: <name>" error. */
const signalNames: Record<string, string> = {
  SIGHUP: 'hangup',
  SIGINT: 'interrupt',
  SIGQUIT: 'quit',
  SIGABRT: 'aborted',
  SIGKILL: 'killed',
  SIGSEGV: 'segmentation fault',
  SIGPIPE: 'broken pipe',
  SIGTERM: 'terminated',
};

function runChild(argv: readonly string[], extraEnv: readonly string[]): Promise<string | undefined> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const kv of extraEnv) {
    const eq = kv.indexOf('=');
    env[textOf(kv.slice(0, eq))] = textOf(kv.slice(eq + 1));
  }
  const file = textOf(argv[0] ?? '');
  return new Promise((resolve) => {
    const child = spawn(file, argv.slice(1).map(textOf), { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && !file.includes('/'))
        resolve(`exec: ${goQuote(argv[0] ?? '')}: executable file not found in $PATH`);
      else if (err.code === 'ENOENT') resolve(`fork/exec ${file}: no such file or directory`);
      else if (err.code === 'EACCES') resolve(`fork/exec ${file}: permission denied`);
      else resolve(err.message);
    });
    child.once('exit', (code, signal) => {
      if (signal !== null) resolve(`signal: ${signalNames[signal] ?? signal}`);
      else resolve(code === 0 ? undefined : `exit status ${code}`);
    });
  });
}
