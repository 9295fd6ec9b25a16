// `snapshot save|status|restore` (etcdctl/ctlv3/command/snapshot_command.go and clientv3/snapshot, 3.4).
// - save <file>: one endpoint only; streams Maintenance.Snapshot into <file>.part, fsyncs, renames. The
//   log lines etcdctl's zap logger writes to stderr are reproduced (timestamps are ours).
// - status <file>: hash, revision, total keys, total size of a Cairn snapshot (an lmdb image), computed
//   as etcd computes them for a bbolt one.
// - restore <file>: builds a new Cairn data dir from the snapshot (see etcdserver/snapshot-file.ts).
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { MaintenanceService } from '../proto/gen/etcdserverpb/rpc.js';
import type { SnapshotResponse } from '../proto/gen/etcdserverpb/rpc.js';
import {
  SnapshotFileError,
  restoreSnapshot,
  snapshotStatus,
  type SnapshotStatus,
} from '../etcdserver/snapshot-file.js';
import { bytesOf, textOf } from './byte-string.js';
import type { CommandDef, Invocation } from './command.js';
import type { FlagDef } from './flag-set.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline } from './global-flags.js';
import { jsonString } from './go-json.js';
import { humanizeBytes } from './humanize.js';
import type { CtlIO } from './io.js';
import { renderTable } from './table-writer.js';
import { GrpcCode, RpcError, clientErrorText } from './rpc-error.js';

/** A zap production-logger line as etcdctl 3.4's snapshot code writes it. */
function zapLine(
  io: CtlIO,
  caller: string,
  msg: string,
  fields: Record<string, string | number | string[]>,
): string {
  const ts = io.wallClock().date.getTime() / 1000;
  let line = `{"level":"info","ts":${ts},"caller":${jsonString(caller)},"msg":${jsonString(msg)}`;
  for (const [k, v] of Object.entries(fields)) {
    const val =
      typeof v === 'number'
        ? String(v)
        : Array.isArray(v)
          ? `[${v.map(jsonString).join(',')}]`
          : jsonString(v);
    line += `,${jsonString(k)}:${val}`;
  }
  return `${line}}\n`;
}

async function runSave(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'snapshot save expects one argument');
  const { cfg } = await clientConfigFromCmd(inv);
  if (cfg.endpoints.length !== 1) {
    throw new CtlExit(
      ExitCode.badArgs,
      `snapshot must be requested to one selected node, not multiple [${cfg.endpoints.map((e) => e.raw).join(' ')}]`,
    );
  }
  const ep = cfg.endpoints[0]!;
  if (ep.grpcTarget === undefined) throw new CtlExit(ExitCode.error, 'context deadline exceeded');
  const path = textOf(inv.args[0]!);
  const part = `${path}.part`;
  const io = inv.io;
  const fd = openSync(part, 'w', 0o600);
  io.stderr.write(zapLine(io, 'snapshot/v3_snapshot.go:119', 'created temporary db file', { path: part }));
  const started = io.monotonicNs();
  let size = 0;
  try {
    io.stderr.write(zapLine(io, 'snapshot/v3_snapshot.go:127', 'fetching snapshot', { endpoint: ep.raw }));
    // A long transfer reports its progress once a second (etcdctl is silent until the end; a short
    // transfer prints exactly etcdctl's lines).
    let lastReportNs = started;
    size = await fetchSnapshot(ep.grpcTarget, commandDeadline(inv), (blob, received, remaining) => {
      writeSync(fd, blob);
      const now = io.monotonicNs();
      if (now - lastReportNs >= PROGRESS_INTERVAL_NS && remaining > 0n) {
        lastReportNs = now;
        const total = BigInt(received) + remaining;
        io.stderr.write(
          zapLine(io, 'snapshot/v3_snapshot.go:135', 'fetching snapshot: progress', {
            endpoint: ep.raw,
            received: humanizeBytes(BigInt(received)),
            total: humanizeBytes(total),
            percent: Number((BigInt(received) * 100n) / (total === 0n ? 1n : total)),
          }),
        );
      }
    });
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(part, { force: true });
    if (err instanceof RpcError) throw new CtlExit(ExitCode.error, clientErrorText(err, false));
    throw err;
  }
  closeSync(fd);
  const took = Number(io.monotonicNs() - started) / 1e9;
  io.stderr.write(
    zapLine(io, 'snapshot/v3_snapshot.go:142', 'fetched snapshot', {
      endpoint: ep.raw,
      size: humanizeBytes(BigInt(size)),
      took,
    }),
  );
  renameSync(part, path);
  io.stderr.write(zapLine(io, 'snapshot/v3_snapshot.go:152', 'saved', { path }));
  io.stdout.write(`Snapshot saved at ${inv.args[0]!}\n`);
}

/** How often a long snapshot transfer reports its progress. */
const PROGRESS_INTERVAL_NS = 1_000_000_000n;

/**
 * Streams Maintenance.Snapshot, handing each blob (the image chunks, then the SHA-256) to `write` with
 * the bytes received so far and the server's remaining_bytes.
 */
function fetchSnapshot(
  target: string,
  deadline: number,
  write: (blob: Buffer, received: number, remaining: bigint) => void,
): Promise<number> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const m = MaintenanceService.snapshot;
  return new Promise<number>((resolve, reject) => {
    let size = 0;
    let failed = false;
    const call = client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      {},
      new grpc.Metadata({ waitForReady: true }),
      { deadline },
    );
    call.on('data', (r: SnapshotResponse) => {
      try {
        size += r.blob.length;
        write(r.blob, size, r.remainingBytes);
      } catch (err) {
        failed = true;
        call.cancel();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    call.on('error', (err: grpc.ServiceError) => {
      client.close();
      if (failed) return;
      failed = true;
      reject(
        err.code === grpc.status.DEADLINE_EXCEEDED
          ? new RpcError(GrpcCode.deadlineExceeded, 'context deadline exceeded')
          : new RpcError(err.code, bytesOf(err.details)),
      );
    });
    call.on('end', () => {
      client.close();
      if (!failed) resolve(size);
    });
  });
}

function printStatus(inv: Invocation, format: string, s: SnapshotStatus): void {
  const out = inv.io.stdout;
  const hex = s.hash.toString(16);
  switch (format) {
    case 'simple':
      out.write(`${hex}, ${s.revision}, ${s.totalKey}, ${humanizeBytes(BigInt(s.totalSize))}\n`);
      return;
    case 'table':
      out.write(
        bytesOf(
          renderTable(
            ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'],
            [[hex, String(s.revision), String(s.totalKey), humanizeBytes(BigInt(s.totalSize))]],
          ),
        ),
      );
      return;
    case 'json':
      out.write(
        `{"hash":${s.hash},"revision":${s.revision},"totalKey":${s.totalKey},"totalSize":${s.totalSize}}\n`,
      );
      return;
    case 'fields':
      out.write(
        `"Hash" : ${s.hash}\n"Revision" : ${s.revision}\n"Keys" : ${s.totalKey}\n"Size" : ${s.totalSize}\n`,
      );
      return;
    default:
      throw new CtlExit(ExitCode.badFeature, `${format} not supported as output format`);
  }
}

async function runStatus(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1)
    throw new CtlExit(ExitCode.badArgs, 'snapshot status requires exactly one argument');
  const { display } = await clientConfigFromCmd(inv);
  const path = textOf(inv.args[0]!);
  try {
    statSync(path);
  } catch {
    throw new CtlExit(ExitCode.error, `stat ${inv.args[0]!}: no such file or directory`);
  }
  let s: SnapshotStatus;
  try {
    s = await snapshotStatus(path);
  } catch (err) {
    if (err instanceof SnapshotFileError) throw new CtlExit(ExitCode.error, err.message);
    throw err;
  }
  printStatus(inv, display.kind, s);
}

async function runRestore(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) {
    throw new CtlExit(ExitCode.badArgs, 'snapshot restore requires exactly one argument');
  }
  const f = inv.flags;
  const name = f.string('name');
  const dataDir = f.string('data-dir') === '' ? `${name}.etcd` : f.string('data-dir');
  const path = textOf(inv.args[0]!);
  const io = inv.io;
  const where = { path, 'data-dir': dataDir };
  if (existsSync(dataDir)) throw new CtlExit(ExitCode.error, `data-dir "${dataDir}" exists`);
  io.stderr.write(zapLine(io, 'snapshot/v3_snapshot.go:296', 'restoring snapshot', where));
  let restored;
  try {
    restored = await restoreSnapshot({
      file: path,
      dataDir,
      name,
      initialCluster: f.string('initial-cluster'),
      initialClusterToken: f.string('initial-cluster-token'),
      initialAdvertisePeerUrls: f.string('initial-advertise-peer-urls').split(','),
      skipHashCheck: f.bool('skip-hash-check'),
    });
  } catch (err) {
    if (err instanceof SnapshotFileError) throw new CtlExit(ExitCode.error, err.message);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CtlExit(ExitCode.error, `open ${inv.args[0]!}: no such file or directory`);
    }
    throw err;
  }
  io.stderr.write(
    zapLine(io, 'membership/cluster.go:392', 'added member', {
      'cluster-id': restored.clusterId.toString(16),
      'local-member-id': '0',
      'added-peer-id': restored.memberId.toString(16),
      'added-peer-peer-urls': restored.peerUrls,
    }),
  );
  io.stderr.write(zapLine(io, 'snapshot/v3_snapshot.go:309', 'restored snapshot', where));
}

/** The flags of etcdctl's `snapshot restore` that build a member's data dir (`backup restore` takes them too). */
export const RESTORE_FLAGS: readonly FlagDef[] = [
  { name: 'data-dir', kind: 'string', default: '', usage: 'Path to the data directory' },
  {
    name: 'initial-cluster',
    kind: 'string',
    default: 'default=http://localhost:2380',
    usage: 'Initial cluster configuration for restore bootstrap',
  },
  {
    name: 'initial-cluster-token',
    kind: 'string',
    default: 'etcd-cluster',
    usage: 'Initial cluster token for the etcd cluster during restore bootstrap',
  },
  {
    name: 'initial-advertise-peer-urls',
    kind: 'string',
    default: 'http://localhost:2380',
    usage: "List of this member's peer URLs to advertise to the rest of the cluster",
  },
  {
    name: 'name',
    kind: 'string',
    default: 'default',
    usage: 'Human-readable name for this member',
  },
];

export function snapshotCommand(): CommandDef {
  return {
    use: 'snapshot <subcommand>',
    short: 'Manages etcd node snapshots',
    children: [
      { use: 'save <filename>', short: 'Stores an etcd node backend snapshot to a given file', run: runSave },
      {
        use: 'restore <filename> [options]',
        short: 'Restores an etcd member snapshot to an etcd directory',
        flags: [
          ...RESTORE_FLAGS,
          {
            name: 'skip-hash-check',
            kind: 'bool',
            default: false,
            usage: 'Ignore snapshot integrity hash value (required if copied from data directory)',
          },
        ],
        run: runRestore,
      },
      { use: 'status <filename>', short: 'Gets backend snapshot status of a given file', run: runStatus },
    ],
  };
}
