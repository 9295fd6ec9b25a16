// One way to run a short-lived command: bounded in time, output captured, and a failure that says which
// command failed and what it printed.
import { execFile } from 'node:child_process';

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        env: opts.env ?? process.env,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && !opts.allowFailure) {
          const why = err.killed
            ? `timed out after ${timeoutMs} ms`
            : `exit ${String(err.code ?? err.signal)}`;
          const out = `${stderr}${stdout}`.trim();
          reject(new Error(`${[file, ...args].join(' ')}: ${why}${out ? `\n${out}` : ''}`));
          return;
        }
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `check` until it returns true or the deadline passes. `check` may return a string: the latest reason
 * it is not ready yet, which goes into the timeout error together with `context()` (e.g. a log tail).
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean | string>,
  opts: {
    timeoutMs: number;
    intervalMs?: number;
    signal?: AbortSignal;
    context?: () => string;
    /** Checked before each attempt: a string (e.g. "the process exited") ends the wait at once. */
    failIf?: () => string | undefined;
  },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    const fatal = opts.failIf?.();
    if (fatal !== undefined) {
      const ctx = opts.context?.() ?? '';
      throw new Error(`${what}: ${fatal}${ctx ? `\n${ctx}` : ''}`);
    }
    let result: boolean | string;
    try {
      result = await check();
    } catch (err) {
      result = err instanceof Error ? err.message : String(err);
    }
    if (result === true) return;
    if (typeof result === 'string') last = result;
    if (opts.signal?.aborted) throw new Error(`aborted while waiting for ${what}`);
    if (Date.now() >= deadline) {
      const ctx = opts.context?.() ?? '';
      throw new Error(
        `timed out after ${opts.timeoutMs / 1000} s waiting for ${what}` +
          (last ? `\nlast check: ${last}` : '') +
          (ctx ? `\n${ctx}` : ''),
      );
    }
    await sleep(opts.intervalMs ?? 250, opts.signal).catch(() => undefined);
  }
}
