// Shared pieces of the transport tests: a recording Raft side, a log-capturing logger, members (a
// Transport with its own peer server, registry and temp snapshot dir) and a bounded wait.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import winston from 'winston';
import { MessageType, newMessage, type Message } from '../../../server/src/raftpb/types.js';
import type { TransportLimits } from '../../../server/src/transport/limits.js';
import { listenPeerServer, type PeerServer } from '../../../server/src/transport/peer-server.js';
import { Transport } from '../../../server/src/transport/transport.js';
import type { SnapshotPayload, TransportRaft } from '../../../server/src/transport/types.js';
import type { Logger } from '../../../server/src/util/logger.js';

export interface LogEntry {
  level: string;
  message: string;
  [key: string]: unknown;
}

/** A logger whose entries (level, message, metadata) land in an array. */
export function captureLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const sink = new Writable({
    objectMode: true,
    write(info: LogEntry, _enc, next) {
      entries.push(info);
      next();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  return { logger, entries };
}

/** The Raft side of a member, recording every call. */
export class RecordingRaft implements TransportRaft {
  readonly processed: Message[] = [];
  readonly unreachable: bigint[] = [];
  readonly snapshotReports: { id: bigint; ok: boolean }[] = [];
  readonly snapshots: { m: Message; payload: SnapshotPayload }[] = [];
  readonly removed = new Set<bigint>();
  onSnapshotHook: (m: Message, payload: SnapshotPayload) => Promise<void> = () => Promise.resolve();

  process(m: Message): void {
    this.processed.push(m);
  }
  async onSnapshot(m: Message, payload: SnapshotPayload): Promise<void> {
    await this.onSnapshotHook(m, payload);
    this.snapshots.push({ m, payload });
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: bigint, ok: boolean): void {
    this.snapshotReports.push({ id, ok });
  }
  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }
}

export interface Member {
  id: bigint;
  transport: Transport;
  raft: RecordingRaft;
  registry: Registry;
  logs: LogEntry[];
  snapshotDir: string;
  server: PeerServer | undefined;
  url: string;
  /** Stops the transport and closes its server. */
  close(): Promise<void>;
}

const tempDirs: string[] = [];

export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const FAST_LIMITS: Partial<TransportLimits> = {
  backoffMinMs: 20,
  backoffMaxMs: 200,
  rttProbeIntervalMs: 50,
  stopTimeoutMs: 2_000,
};

export async function newMember(
  id: bigint,
  opts: { clusterId?: bigint; limits?: Partial<TransportLimits>; listen?: boolean; port?: number } = {},
): Promise<Member> {
  const raft = new RecordingRaft();
  const { logger, entries } = captureLogger();
  const registry = new Registry();
  const snapshotDir = mkdtempSync(join(tmpdir(), 'cairn-transport-'));
  tempDirs.push(snapshotDir);
  const transport = new Transport({
    clusterId: opts.clusterId ?? 0xc1n,
    memberId: id,
    raft,
    snapshotDir,
    registry,
    logger,
    limits: { ...FAST_LIMITS, ...opts.limits },
  });
  const member: Member = {
    id,
    transport,
    raft,
    registry,
    logs: entries,
    snapshotDir,
    server: undefined,
    url: '',
    close: async () => {
      await transport.stop();
      await member.server?.close();
    },
  };
  if (opts.listen !== false) await listen(member, opts.port);
  return member;
}

export async function listen(member: Member, port?: number): Promise<void> {
  member.server = await listenPeerServer(member.transport, { port: port ?? 0 });
  member.url = member.server.url;
}

/** Full mesh: every member knows every other member's URL; then all start. */
export function connectAll(members: Member[]): void {
  for (const a of members) {
    for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
  }
  for (const m of members) m.transport.start();
}

export { waitFor } from '../../framework/wait.js';

/** A MsgApp from `from` to `to` whose index numbers it, with a payload of `bytes` bytes. */
export function app(from: bigint, to: bigint, index: number, bytes = 8): Message {
  return newMessage({
    type: MessageType.MsgApp,
    from,
    to,
    term: 1,
    index,
    entries: [{ term: 1, index: index + 1, type: 0, data: new Uint8Array(bytes).fill(index & 0xff) }],
  });
}

export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const got = await metric.get();
  let sum = 0;
  for (const v of got.values) {
    const l = v.labels as Record<string, string | number>;
    if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) sum += v.value;
  }
  return sum;
}

/** Like waitFor, for an asynchronous condition (the shared waitFor takes both). */
export { waitFor as waitForAsync } from '../../framework/wait.js';
