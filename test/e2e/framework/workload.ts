// A client workload that runs while the operator changes a cluster: one writer putting `<prefix><n>`
// in order through one endpoint (a Service), as an application would. A put that fails is retried
// (same key, same value) on a new connection until it is acknowledged; afterwards `verify` reads every
// acknowledged key back. Bounded: it stops itself after `maxWrites` or `maxMs`.
import { Etcd3 } from 'etcd3';

export interface WorkloadResult {
  /** Keys acknowledged, `<prefix>0` … `<prefix><acked-1>`. */
  acked: number;
  /** Attempts that failed and were retried. */
  failedAttempts: number;
  /** The longest time from one acknowledgement to the next. */
  longestGapMs: number;
}

export interface Writer {
  stop(): Promise<WorkloadResult>;
}

const CALL_DEADLINE_MS = 3_000;
const RETRY_PAUSE_MS = 200;

function connect(endpoint: string): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    dialTimeout: 2_000,
    defaultCallOptions: () => ({ deadline: Date.now() + CALL_DEADLINE_MS }),
  });
}

export function valueOf(prefix: string, n: number): string {
  return `${prefix}value-${n}`;
}

export function startWriter(
  endpoint: string,
  prefix: string,
  opts: { maxWrites: number; maxMs: number },
): Writer {
  const result: WorkloadResult = { acked: 0, failedAttempts: 0, longestGapMs: 0 };
  let stopping = false;
  const deadline = Date.now() + opts.maxMs;
  const run = async (): Promise<void> => {
    let client = connect(endpoint);
    let lastAck = Date.now();
    try {
      while (!stopping && result.acked < opts.maxWrites && Date.now() < deadline) {
        const n = result.acked;
        try {
          await client.put(`${prefix}${n}`).value(valueOf(prefix, n));
        } catch {
          result.failedAttempts++;
          client.close();
          await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
          client = connect(endpoint);
          continue;
        }
        const now = Date.now();
        result.longestGapMs = Math.max(result.longestGapMs, now - lastAck);
        lastAck = now;
        result.acked++;
      }
    } finally {
      client.close();
    }
  };
  const done = run();
  return {
    async stop(): Promise<WorkloadResult> {
      stopping = true;
      await done;
      return result;
    },
  };
}

/** Keys under `prefix` whose value is not the one written, or that are missing, of the first `acked`. */
export async function lostWrites(endpoint: string, prefix: string, acked: number): Promise<string[]> {
  const client = connect(endpoint);
  try {
    const stored = await client.getAll().prefix(prefix).strings();
    const lost: string[] = [];
    for (let n = 0; n < acked; n++) {
      if (stored[`${prefix}${n}`] !== valueOf(prefix, n)) lost.push(`${prefix}${n}`);
    }
    return lost;
  } finally {
    client.close();
  }
}
