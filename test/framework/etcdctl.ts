// Runs Debian's etcdctl (API v3) against one endpoint: execFile (never a shell), bounded by a timeout.
import { execFile } from 'node:child_process';

export const ETCDCTL_BIN = process.env['ETCDCTL_BIN'] ?? '/usr/bin/etcdctl';

export interface EtcdctlResult {
  /** Exit code; -1 if the process was killed (timeout) or could not be started. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface EtcdctlOptions {
  /** Written to etcdctl's stdin, which is then closed (stdin is always closed, so nothing waits on it). */
  stdin?: string;
  /** Extra environment variables (ETCDCTL_API=3 is always set; inherited ETCDCTL_* variables are dropped). */
  env?: Record<string, string>;
  /** Kill etcdctl after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /**
   * Pass the endpoint as host:port, without its http:// scheme. etcdctl 3.4's endpoint status (and
   * hashkv) dials the endpoint string verbatim, so it sends `:authority: http://host:port`, which is
   * not a valid HTTP/2 authority; Node's HTTP/2 stack (nghttp2) resets such streams, Go's accepts
   * them. Newer etcd clients strip the scheme. See README "Troubleshooting".
   */
  bareEndpoint?: boolean;
}

function cleanEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCDCTL_')) env[k] = v;
  }
  env['ETCDCTL_API'] = '3';
  return { ...env, ...extra };
}

/**
 * `etcdctl --endpoints=<endpoint> <args...>`. Never rejects for a non-zero exit: the exit code is part of
 * what tests assert.
 */
export function etcdctl(
  endpoint: string,
  args: readonly string[],
  opts: EtcdctlOptions = {},
): Promise<EtcdctlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      ETCDCTL_BIN,
      [
        `--endpoints=${opts.bareEndpoint === true ? endpoint.replace(/^https?:\/\//, '') : endpoint}`,
        ...args,
      ],
      {
        env: cleanEnv(opts.env),
        timeout: opts.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean; signal?: string | null };
        if (typeof e.code === 'number') {
          resolve({ code: e.code, stdout, stderr });
        } else {
          const why = e.killed ? `killed (${e.signal ?? 'signal'}) after timeout` : String(e.message);
          resolve({ code: -1, stdout, stderr: `${stderr}\n[etcdctl ${why}]` });
        }
      },
    );
    child.stdin?.on('error', () => undefined); // etcdctl may exit before reading stdin
    child.stdin?.end(opts.stdin ?? '');
  });
}

/** Renders a command line for failure messages (single-quoted where needed). */
export function formatCommand(args: readonly string[]): string {
  return [
    'etcdctl',
    ...args.map((a) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)),
  ].join(' ');
}
