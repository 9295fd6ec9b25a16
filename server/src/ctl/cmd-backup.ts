// `backup save|list|fetch|delete|restore`: Cairn's own command (etcdctl has none) for snapshots in object
// storage. The operator runs `backup save` in a Job (credentials from a Secret in AWS_* variables) and
// `backup restore` in an init container; people use list/fetch/delete for manual recovery.
// - save <url>: Status on every --endpoints entry; the member with a leader and the highest revision
//   (ties: the first listed) streams Maintenance.Snapshot straight into the store. The SHA-256 of the
//   whole stream is computed on the way and the snapshot's trailer verified at its end: a mismatch aborts
//   the upload. One line of JSON on stdout (and in --result-file); log lines on stderr only.
// - fetch <url> <file>: to <file>.part, checked against --sha256 or the object's metadata (and the
//   trailer), fsync, rename. A mismatch leaves nothing behind. --result-file gets one line of JSON (the
//   operator's restore verification reads it from the termination log).
// - restore <url>: fetch beside --data-dir, build the data dir as `snapshot restore` does into
//   <data-dir>.restoring, mark it (backup-marker.ts), move it into place.
import {
  closeSync,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
} from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as grpc from '@grpc/grpc-js';
import { restoreSnapshot, SnapshotFileError, snapshotStatus } from '../etcdserver/snapshot-file.js';
import { fromObjectMetadata, hexId, isSha256Hex, toObjectMetadata } from '../objectstore/backup-metadata.js';
import { ObjectStoreError, type ObjectStore } from '../objectstore/object-store.js';
import { ObjectURLError } from '../objectstore/object-url.js';
import { openStore, type OpenedStore } from '../objectstore/open-store.js';
import { ClusterService, MaintenanceService } from '../proto/gen/etcdserverpb/rpc.js';
import type { ResponseHeader, SnapshotResponse } from '../proto/gen/etcdserverpb/rpc.js';
import { memberListRequest, statusRequest } from '../proto/messages.js';
import { durationToMs } from '../util/go-duration.js';
import { SnapshotChecksumError, SnapshotDigest } from './backup-digest.js';
import { dataDirState, decideRestore, markerFile, readMarker, type RestoreMarker } from './backup-marker.js';
import { bytesOf, textOf } from './byte-string.js';
import { failureText } from './call.js';
import { CallFailure, EtcdClient } from './client.js';
import { RESTORE_FLAGS } from './cmd-snapshot.js';
import type { CommandDef, Invocation } from './command.js';
import type { ParsedEndpoint } from './endpoint.js';
import { CtlExit, ExitCode } from './exit.js';
import { jsonString } from './go-json.js';
import { clientConfigFromCmd, commandDeadline, keepaliveFromFlags, mustClient } from './global-flags.js';
import { humanizeBytes } from './humanize.js';
import { logLine as sharedLogLine } from './log-line.js';
import { rfc3339, withResultFile, writeResultFile } from './result-file.js';
import type { CtlIO } from './io.js';
import { renderTable } from './table-writer.js';

/** How often a long transfer reports its progress. */
const progressIntervalNs = 1_000_000_000n;

/** A zap-style JSON log line (as the snapshot commands write them), for stderr. */
function logLine(
  io: CtlIO,
  level: 'info' | 'warn',
  msg: string,
  fields: Record<string, string | number>,
): void {
  sharedLogLine(io, 'ctl/cmd-backup.go', level, msg, fields);
}

/** The store a URL names, with the --s3-* flags; a bad URL or endpoint exits 1. */
function storeOf(inv: Invocation, url: string, prefix = false): OpenedStore {
  try {
    return openStore(
      url,
      {
        endpoint: inv.flags.string('s3-endpoint'),
        region: inv.flags.string('s3-region'),
        forcePathStyle: inv.flags.bool('s3-force-path-style'),
      },
      prefix,
    );
  } catch (err) {
    if (err instanceof ObjectURLError) throw new CtlExit(ExitCode.error, bytesOf(err.message));
    throw err;
  }
}

/** Store and checksum failures end the command with exit 1 and their (scrubbed) message. */
function storeExit(err: unknown): never {
  if (err instanceof ObjectStoreError || err instanceof SnapshotChecksumError) {
    throw new CtlExit(ExitCode.error, bytesOf(err.message));
  }
  throw err;
}

function sha256Flag(inv: Invocation): string | undefined {
  const v = inv.flags.string('sha256');
  if (v === '') return undefined;
  if (!isSha256Hex(v)) throw new CtlExit(ExitCode.badArgs, `--sha256 ${v}: expected 64 hex digits`);
  return v.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------
// save

interface Candidate {
  readonly ep: ParsedEndpoint;
  readonly revision: number;
  readonly memberId: bigint;
  readonly clusterId: bigint;
}

/** Status on every endpoint; the answering member with a leader and the highest revision (ties: first). */
async function chooseMember(
  inv: Invocation,
  endpoints: ParsedEndpoint[],
  token: string | undefined,
): Promise<Candidate | undefined> {
  let best: Candidate | undefined;
  for (const ep of endpoints) {
    const client = new EtcdClient([ep], 'passthrough', inv.io, keepaliveFromFlags(inv));
    client.token = token;
    try {
      const resp = await client.call(
        MaintenanceService.status,
        statusRequest(),
        'repeatable',
        commandDeadline(inv),
      );
      const revision = Number(resp.header?.revision ?? 0n);
      if (resp.leader === 0n) {
        logLine(inv.io, 'warn', 'skipping member without a leader', { endpoint: ep.raw });
        continue;
      }
      if (resp.errors.some((e) => e.includes('CORRUPT'))) {
        logLine(inv.io, 'warn', 'skipping member with a CORRUPT alarm', { endpoint: ep.raw });
        continue;
      }
      logLine(inv.io, 'info', 'member status', { endpoint: ep.raw, revision });
      if (best === undefined || revision > best.revision) {
        best = {
          ep,
          revision,
          memberId: resp.header?.memberId ?? 0n,
          clusterId: resp.header?.clusterId ?? 0n,
        };
      }
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      logLine(inv.io, 'warn', 'member did not answer Status', { endpoint: ep.raw, error: failureText(err) });
    } finally {
      client.close();
    }
  }
  return best;
}

/** The member's name from MemberList ('' if it cannot be had: the backup does not depend on it). */
async function memberName(inv: Invocation, c: Candidate, token: string | undefined): Promise<string> {
  const client = new EtcdClient([c.ep], 'passthrough', inv.io, keepaliveFromFlags(inv));
  client.token = token;
  try {
    const resp = await client.call(
      ClusterService.memberList,
      memberListRequest(),
      'repeatable',
      commandDeadline(inv),
    );
    return resp.members.find((m) => m.ID === c.memberId)?.name ?? '';
  } catch (err) {
    if (!(err instanceof CallFailure)) throw err;
    return '';
  } finally {
    client.close();
  }
}

const runSave = (inv: Invocation): Promise<void> => withResultFile(inv, save);

async function save(inv: Invocation, resultFile: string): Promise<void> {
  if (inv.args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'backup save expects one argument: <url>');
  const url = textOf(inv.args[0]!);
  const snapshotTimeoutNs = inv.flags.duration('snapshot-timeout');
  const { cfg } = await clientConfigFromCmd(inv);
  const opened = storeOf(inv, url);
  // Creating the client checks the endpoints (no TLS yet) and authenticates with --user: its token goes
  // with every later call, as clientv3's per-RPC credentials.
  const main = await mustClient(cfg, inv);
  const token = main.token;
  main.close();
  try {
    const chosen = await chooseMember(inv, cfg.endpoints, token);
    if (chosen === undefined) {
      throw new CtlExit(
        ExitCode.error,
        `no member with a leader answered Status at [${cfg.endpoints.map((e) => e.raw).join(' ')}]`,
      );
    }
    const name = await memberName(inv, chosen, token);
    logLine(inv.io, 'info', 'taking snapshot', {
      endpoint: chosen.ep.raw,
      member: name,
      'member-id': hexId(chosen.memberId),
      revision: chosen.revision,
    });
    const startTime = new Date();
    const deadline = snapshotTimeoutNs > 0n ? Date.now() + durationToMs(snapshotTimeoutNs) : Infinity;
    const saved = await streamSnapshot(inv, chosen, opened, deadline, token);
    const completionTime = new Date();
    const result =
      `{"objectURL":${jsonString(bytesOf(opened.store.url(opened.key)))},"sizeBytes":${saved.size},` +
      `"sha256":"${saved.sha256}","revision":${saved.revision},"member":${jsonString(bytesOf(name))},` +
      `"memberID":"${hexId(saved.memberId)}","clusterID":"${hexId(saved.clusterId)}",` +
      `"startTime":"${rfc3339(startTime)}","completionTime":"${rfc3339(completionTime)}"}\n`;
    logLine(inv.io, 'info', 'saved', {
      url: opened.store.url(opened.key),
      size: humanizeBytes(BigInt(saved.size)),
      took: (completionTime.getTime() - startTime.getTime()) / 1000,
    });
    await writeResultFile(resultFile, result);
    inv.io.stdout.write(result);
  } finally {
    opened.close();
  }
}

interface Saved {
  size: number;
  sha256: string;
  revision: number;
  memberId: bigint;
  clusterId: bigint;
}

/** Maintenance.Snapshot from the chosen member into the store, checksummed on the way. */
async function streamSnapshot(
  inv: Invocation,
  chosen: Candidate,
  opened: OpenedStore,
  deadline: number,
  token: string | undefined,
): Promise<Saved> {
  const target = chosen.ep.grpcTarget;
  if (target === undefined) throw new CtlExit(ExitCode.error, `cannot dial ${chosen.ep.raw}`);
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const m = MaintenanceService.snapshot;
  const md = new grpc.Metadata({ waitForReady: true });
  if (token !== undefined) md.set('token', token);
  const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {}, md, {
    deadline,
  });
  const io = inv.io;
  let header: ResponseHeader | undefined;
  let received = 0;
  let lastReportNs = io.monotonicNs();
  // Responses → their blobs (the header of the first one says which revision the snapshot holds).
  const blobs = new Transform({
    writableObjectMode: true,
    transform(r: SnapshotResponse, _enc: BufferEncoding, cb: TransformCallback): void {
      header ??= r.header;
      received += r.blob.length;
      const now = io.monotonicNs();
      if (now - lastReportNs >= progressIntervalNs && r.remainingBytes > 0n) {
        lastReportNs = now;
        logLine(io, 'info', 'uploading snapshot: progress', {
          received: humanizeBytes(BigInt(received)),
          total: humanizeBytes(BigInt(received) + r.remainingBytes),
        });
      }
      cb(null, r.blob);
    },
  });
  const digest = new SnapshotDigest(true);
  let streamError: CtlExit | undefined;
  let cancelled = false;
  call.on('error', (err: grpc.ServiceError) => {
    if (cancelled) return;
    const text =
      err.code === grpc.status.DEADLINE_EXCEEDED
        ? 'snapshot stream: --snapshot-timeout exceeded'
        : `snapshot stream from ${chosen.ep.raw}: ${err.details}`;
    streamError = new CtlExit(ExitCode.error, bytesOf(text));
    digest.destroy(streamError);
  });
  call.pipe(blobs).pipe(digest);
  try {
    const meta = (): Record<string, string> => ({
      ...toObjectMetadata({
        sha256: digest.sha256,
        revision: Number(header?.revision ?? BigInt(chosen.revision)),
        memberId: header?.memberId ?? chosen.memberId,
        clusterId: header?.clusterId ?? chosen.clusterId,
      }),
    });
    await opened.store.put(opened.key, digest, meta);
  } catch (err) {
    cancelled = true;
    call.cancel();
    if (streamError !== undefined) throw streamError;
    storeExit(err);
  } finally {
    client.close();
  }
  return {
    size: digest.bytes,
    sha256: digest.sha256,
    revision: Number(header?.revision ?? BigInt(chosen.revision)),
    memberId: header?.memberId ?? chosen.memberId,
    clusterId: header?.clusterId ?? chosen.clusterId,
  };
}

// ---------------------------------------------------------------------------------------------------
// list

async function runList(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1)
    throw new CtlExit(ExitCode.badArgs, 'backup list expects one argument: <url-prefix>');
  const { display } = await clientConfigFromCmd(inv);
  const format = display.kind;
  if (format !== 'simple' && format !== 'json' && format !== 'table') {
    throw new CtlExit(ExitCode.badFeature, `${format} not supported as output format`);
  }
  const opened = storeOf(inv, textOf(inv.args[0]!), true);
  try {
    const objects = await opened.store.list(opened.key).catch(storeExit);
    const rows = objects.map((o) => ({ url: opened.store.url(o.key), o, m: fromObjectMetadata(o.meta) }));
    const out = inv.io.stdout;
    if (format === 'simple') {
      for (const r of rows) out.write(bytesOf(`${r.url}\n`));
    } else if (format === 'json') {
      const items = rows.map(
        (r) =>
          `{"url":${jsonString(bytesOf(r.url))},"key":${jsonString(bytesOf(r.o.key))},"size":${r.o.size},` +
          `"lastModified":"${rfc3339(r.o.lastModified)}","sha256":${jsonString(r.m.sha256 ?? '')},` +
          `"revision":${r.m.revision ?? 0},"memberID":"${r.m.memberId === undefined ? '' : hexId(r.m.memberId)}",` +
          `"clusterID":"${r.m.clusterId === undefined ? '' : hexId(r.m.clusterId)}"}`,
      );
      out.write(`{"objects":[${items.join(',')}]}\n`);
    } else {
      out.write(
        bytesOf(
          renderTable(
            ['KEY', 'SIZE', 'LAST MODIFIED', 'SHA256', 'REVISION'],
            rows.map((r) => [
              r.o.key,
              String(r.o.size),
              rfc3339(r.o.lastModified),
              r.m.sha256 ?? '',
              r.m.revision === undefined ? '' : String(r.m.revision),
            ]),
          ),
        ),
      );
    }
  } finally {
    opened.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// fetch

interface Fetched {
  readonly sha256: string;
  readonly revision: number | undefined;
}

/**
 * Downloads `key` to `file` through `<file>.part`: SHA-256 checked against `expected` (else the object's
 * metadata; else only the snapshot's trailer, said on stderr), fsynced, renamed. On any failure nothing
 * is left at `<file>` or `<file>.part`.
 */
async function fetchVerified(
  io: CtlIO,
  store: ObjectStore,
  key: string,
  file: string,
  expectedFlag: string | undefined,
): Promise<Fetched> {
  const part = `${file}.part`;
  const got = await store.get(key).catch(storeExit);
  const m = fromObjectMetadata(got.meta);
  const expected = expectedFlag ?? m.sha256;
  const digest = new SnapshotDigest(false);
  try {
    await pipeline(got.body, digest, createWriteStream(part, { mode: 0o600 }));
    fsyncFile(part);
  } catch (err) {
    await rm(part, { force: true });
    if (err instanceof ObjectStoreError) storeExit(err);
    const msg = err instanceof Error ? err.message : String(err);
    throw new CtlExit(ExitCode.error, bytesOf(`reading ${store.url(key)}: ${msg}`));
  }
  if (expected !== undefined && digest.sha256 !== expected) {
    await rm(part, { force: true });
    throw new CtlExit(ExitCode.error, `checksum mismatch: expected ${expected} got ${digest.sha256}`);
  }
  if (!digest.trailerOk) {
    await rm(part, { force: true });
    throw new CtlExit(
      ExitCode.error,
      "snapshot checksum mismatch: the snapshot's SHA-256 trailer does not match its contents",
    );
  }
  if (expected === undefined) {
    logLine(
      io,
      'warn',
      'no expected SHA-256 (no --sha256, none in the object metadata): verified the snapshot trailer only',
      {
        url: store.url(key),
        sha256: digest.sha256,
      },
    );
  }
  renameSync(part, file);
  fsyncFile(dirname(file));
  return { sha256: digest.sha256, revision: m.revision };
}

/** fsync through a descriptor of its own (on Linux this flushes the file's data whoever wrote it). */
function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const runFetch = (inv: Invocation): Promise<void> => withResultFile(inv, fetch);

async function fetch(inv: Invocation, resultFile: string): Promise<void> {
  if (inv.args.length !== 2)
    throw new CtlExit(ExitCode.badArgs, 'backup fetch expects two arguments: <url> <file>');
  const expected = sha256Flag(inv);
  await clientConfigFromCmd(inv);
  const file = resolve(textOf(inv.args[1]!));
  if (dataDirState(dirname(file)) === 'absent')
    throw new CtlExit(ExitCode.error, bytesOf(`${dirname(file)}: no such directory`));
  try {
    openSync(file, 'r');
    throw new CtlExit(ExitCode.error, bytesOf(`${file} exists; not overwriting it`));
  } catch (err) {
    if (err instanceof CtlExit) throw err;
  }
  const opened = storeOf(inv, textOf(inv.args[0]!));
  try {
    const f = await fetchVerified(inv.io, opened.store, opened.key, file, expected);
    const url = opened.store.url(opened.key);
    if (resultFile !== '') {
      const revision = f.revision ?? (await snapshotStatus(file)).revision;
      await writeResultFile(
        resultFile,
        `{"objectURL":${jsonString(bytesOf(url))},"sizeBytes":${statSync(file).size},` +
          `"sha256":"${f.sha256}","revision":${revision}}\n`,
      );
    }
    inv.io.stdout.write(bytesOf(`Fetched ${url} to ${file} (sha256 ${f.sha256})\n`));
  } finally {
    opened.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// delete

async function runDelete(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'backup delete expects one argument: <url>');
  await clientConfigFromCmd(inv);
  const opened = storeOf(inv, textOf(inv.args[0]!));
  try {
    const url = opened.store.url(opened.key);
    const existing = await opened.store.head(opened.key).catch(storeExit);
    if (existing === undefined) {
      inv.io.stdout.write(bytesOf(`${url} was already gone\n`));
      return;
    }
    await opened.store.delete(opened.key).catch(storeExit);
    inv.io.stdout.write(bytesOf(`Deleted ${url}\n`));
  } finally {
    opened.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// restore

async function runRestore(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1)
    throw new CtlExit(ExitCode.badArgs, 'backup restore expects one argument: <url>');
  const f = inv.flags;
  const expectedFlag = sha256Flag(inv);
  if (f.string('data-dir') === '') throw new CtlExit(ExitCode.badArgs, 'backup restore needs --data-dir');
  await clientConfigFromCmd(inv);
  const dataDir = resolve(textOf(f.string('data-dir')));
  const io = inv.io;
  const opened = storeOf(inv, textOf(inv.args[0]!));
  const url = opened.store.url(opened.key);
  try {
    const state = dataDirState(dataDir);
    const marker = state === 'nonEmpty' ? readMarker(dataDir) : undefined;
    let expected = expectedFlag;
    if (state === 'nonEmpty' && expected === undefined && marker?.url === url) {
      // Whether the data dir holds this object as it is now: its recorded SHA-256 (if it has one).
      const info = await opened.store.head(opened.key).catch(storeExit);
      expected = info === undefined ? undefined : fromObjectMetadata(info.meta).sha256;
    }
    const token = f.string('initial-cluster-token');
    const decision = decideRestore({
      state,
      marker,
      url,
      sha256: expected,
      token,
      replace: f.bool('replace'),
    });
    if (decision === 'alreadyRestored') {
      io.stdout.write(bytesOf(`already restored: ${dataDir} holds ${url} (sha256 ${marker!.sha256})\n`));
      return;
    }
    if (decision === 'refuse') {
      throw new CtlExit(
        ExitCode.error,
        bytesOf(
          `data-dir "${dataDir}" is not empty and was not restored from ${url}` +
            (expected === undefined ? '' : ` (sha256 ${expected})`) +
            '; refusing to touch it (--replace swaps it for the restored data)',
        ),
      );
    }
    const building = `${dataDir}.restoring`;
    const snapshot = `${dataDir}.restoring.db`;
    const old = `${dataDir}.old`;
    mkdirSync(dirname(dataDir), { recursive: true });
    const cleanUp = async (): Promise<void> => {
      for (const p of [building, snapshot, `${snapshot}.part`]) await rm(p, { recursive: true, force: true });
    };
    await cleanUp();
    try {
      logLine(io, 'info', 'fetching backup', { url, path: snapshot });
      const fetched = await fetchVerified(io, opened.store, opened.key, snapshot, expectedFlag);
      const restored = await restoreSnapshot({
        file: snapshot,
        dataDir: building,
        name: f.string('name'),
        initialCluster: f.string('initial-cluster'),
        initialClusterToken: token,
        initialAdvertisePeerUrls: f.string('initial-advertise-peer-urls').split(','),
        skipHashCheck: false,
      }).catch((err: unknown) => {
        if (err instanceof SnapshotFileError) throw new CtlExit(ExitCode.error, bytesOf(err.message));
        throw err;
      });
      const revision = fetched.revision ?? (await snapshotStatus(snapshot)).revision;
      const m: RestoreMarker = {
        url,
        sha256: fetched.sha256,
        revision,
        token,
        restoredAt: rfc3339(new Date()),
      };
      const markerPath = join(building, markerFile);
      await writeFile(markerPath, `${JSON.stringify(m)}\n`);
      fsyncFile(markerPath);
      fsyncFile(building);
      await rm(snapshot, { force: true });
      if (state === 'absent') {
        renameSync(building, dataDir);
      } else if (state === 'empty') {
        // An empty data dir may be a mount point, which cannot be renamed over: move the contents,
        // the marker last, so a data dir with a marker is complete.
        for (const e of readdirSync(building))
          if (e !== markerFile) renameSync(join(building, e), join(dataDir, e));
        renameSync(markerPath, join(dataDir, markerFile));
        await rm(building, { recursive: true, force: true });
      } else {
        // --replace, and only now that the new data dir is complete.
        await rm(old, { recursive: true, force: true });
        renameSync(dataDir, old);
        renameSync(building, dataDir);
        fsyncFile(dirname(dataDir));
        await rm(old, { recursive: true, force: true });
      }
      fsyncFile(dirname(dataDir));
      logLine(io, 'info', 'restored backup', {
        url,
        'data-dir': dataDir,
        'cluster-id': hexId(restored.clusterId),
        'member-id': hexId(restored.memberId),
        revision,
      });
      io.stdout.write(
        bytesOf(`Restored ${url} (revision ${revision}, sha256 ${fetched.sha256}) into ${dataDir}\n`),
      );
    } catch (err) {
      await cleanUp();
      throw err;
    }
  } finally {
    opened.close();
  }
}

// ---------------------------------------------------------------------------------------------------

export function backupCommand(): CommandDef {
  const sha256: CommandDef['flags'] = [
    {
      name: 'sha256',
      kind: 'string',
      default: '',
      usage: "Expected SHA-256 of the object (default: the object's sha256 metadata)",
    },
  ];
  return {
    use: 'backup <subcommand>',
    short: 'Saves snapshots to and restores them from object storage (s3://bucket/key, file:///path)',
    persistentFlags: [
      {
        name: 's3-endpoint',
        kind: 'string',
        default: '',
        usage: 'S3-compatible endpoint URL (default: AWS)',
      },
      { name: 's3-region', kind: 'string', default: 'us-east-1', usage: 'S3 region' },
      {
        name: 's3-force-path-style',
        kind: 'bool',
        default: false,
        usage: 'Path-style S3 addressing (http://host/bucket/key)',
      },
    ],
    children: [
      {
        use: 'save <url>',
        short: 'Streams a snapshot of the member with the highest revision to <url>',
        flags: [
          {
            name: 'result-file',
            kind: 'string',
            default: '',
            usage: 'Also write the result JSON here (e.g. /dev/termination-log)',
          },
          {
            name: 'snapshot-timeout',
            kind: 'duration',
            default: 0n,
            usage: 'Deadline for the snapshot transfer (0: none)',
          },
        ],
        run: runSave,
      },
      { use: 'list <url-prefix>', short: 'Lists the backups under a prefix', run: runList },
      {
        use: 'fetch <url> <file>',
        short: 'Downloads a backup to <file>, verifying its SHA-256',
        flags: [
          ...sha256,
          {
            name: 'result-file',
            kind: 'string',
            default: '',
            usage: 'Also write the result JSON (URL, size, SHA-256, revision) here',
          },
        ],
        run: runFetch,
      },
      { use: 'delete <url>', short: 'Deletes a backup (a missing one is not an error)', run: runDelete },
      {
        use: 'restore <url> [options]',
        short: 'Builds a data dir from a backup, as snapshot restore does',
        flags: [
          ...sha256,
          ...RESTORE_FLAGS,
          {
            name: 'replace',
            kind: 'bool',
            default: false,
            usage: 'Replace a non-empty data dir (only once the restored one is complete)',
          },
        ],
        run: runRestore,
      },
    ],
  };
}
