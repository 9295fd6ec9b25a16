// cairnctl's contact with the outside world, injected so that commands and printers run in tests
// without a process: byte-string sinks for stdout/stderr, stdin, the environment and clocks.
import { bytesFromBuffer } from './byte-string.js';

export interface Sink {
  /** Writes a byte string as raw bytes. */
  write(bytes: string): void;
}

export interface StdinReader {
  /** Everything left on stdin (Go's ioutil.ReadAll(os.Stdin)), as a byte string. */
  readAll(): Promise<string>;
  /**
   * bufio.Reader.ReadString('\n'): the next line including its '\n'; `eof` is true when stdin ended
   * first (the line then holds whatever preceded the end, possibly nothing).
   */
  readLine(): Promise<{ line: string; eof: boolean }>;
}

export interface CtlIO {
  stdout: Sink;
  stderr: Sink;
  stdin: StdinReader;
  /** The environment in the process's order (order matters for etcd's env-var checks). */
  env: ReadonlyMap<string, string>;
  /** Wall clock for log timestamps: the time, and microseconds within its second. */
  wallClock(): { date: Date; micros: number };
  /** Monotonic nanoseconds, for "took" durations. */
  monotonicNs(): bigint;
  /** Random numbers (client ids, retry jitter). */
  random(): number;
  /**
   * Go's exec.Command(argv...).Run() with os.Environ() plus `extraEnv` ("K=V" byte strings), stdin from
   * /dev/null and stdout/stderr shared with cairnctl (after what was written so far); resolves to Go's
   * error text ("exit status 1", `exec: "x": executable file not found in $PATH`) or undefined on
   * success. Absent where no process can be started (unit tests).
   */
  runCommand?(argv: readonly string[], extraEnv: readonly string[]): Promise<string | undefined>;
}

/** A StdinReader over a stream (process.stdin), reading lazily as etcdctl does. */
export class StreamStdin implements StdinReader {
  private buffered = '';
  private ended = false;
  private readonly waiters: (() => void)[] = [];
  private started = false;

  constructor(private readonly stream: NodeJS.ReadableStream) {}

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.stream.on('data', (chunk: Buffer | string) => {
      this.buffered += typeof chunk === 'string' ? chunk : bytesFromBuffer(chunk);
      this.wake();
    });
    this.stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.stream.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private more(): Promise<void> {
    this.start();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async readAll(): Promise<string> {
    this.start();
    while (!this.ended) await this.more();
    const all = this.buffered;
    this.buffered = '';
    return all;
  }

  async readLine(): Promise<{ line: string; eof: boolean }> {
    this.start();
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl + 1);
        this.buffered = this.buffered.slice(nl + 1);
        return { line, eof: false };
      }
      if (this.ended) {
        const line = this.buffered;
        this.buffered = '';
        return { line, eof: true };
      }
      await this.more();
    }
  }

  /** Stops reading (so an open terminal or pipe does not keep the process alive). */
  close(): void {
    if (this.started && 'pause' in this.stream) (this.stream as NodeJS.ReadStream).pause();
    if ('destroy' in this.stream) (this.stream as NodeJS.ReadStream).destroy();
  }
}

/** A StdinReader over fixed bytes (tests, and the empty stdin txn ops see). */
export class BytesStdin implements StdinReader {
  constructor(private rest: string) {}

  readAll(): Promise<string> {
    const all = this.rest;
    this.rest = '';
    return Promise.resolve(all);
  }

  readLine(): Promise<{ line: string; eof: boolean }> {
    const nl = this.rest.indexOf('\n');
    if (nl < 0) {
      const line = this.rest;
      this.rest = '';
      return Promise.resolve({ line, eof: true });
    }
    const line = this.rest.slice(0, nl + 1);
    this.rest = this.rest.slice(nl + 1);
    return Promise.resolve({ line, eof: false });
  }
}

/** A Sink that collects output (tests and buffered stderr). */
export class MemorySink implements Sink {
  text = '';
  write(bytes: string): void {
    this.text += bytes;
  }
}
