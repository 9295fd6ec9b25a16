import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { EtcdServer } from '../etcdserver/server.js';
import type { SnapshotRequest, SnapshotResponse } from '../proto/gen/etcdserverpb/rpc.js';
import { toGrpcError } from './errors.js';
import { requiresLeader } from './stream-guard.js';
import type { HandlerContext } from './unary.js';

/** Bytes per Snapshot message (etcd: snapshotSendBufferSize, 32 KiB). */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
/** The image sent is padded with zero bytes to a multiple of this: etcd's client checks size % 512. */
export const SNAPSHOT_ALIGN_BYTES = 512;

/**
 * The Snapshot stream (etcd v3rpc maintenance.go Snapshot):
 *
 *   message 1..n: blob = the database image, 32 KiB at a time; remaining_bytes = image bytes not yet sent
 *   message n+1:  blob = SHA-256 of the image (32 bytes); remaining_bytes = 0
 *
 * The image is a compacted lmdb copy taken under one read transaction (so writes keep flowing while it
 * is made and sent), zero-padded to a multiple of 512 bytes. lmdb ignores bytes past its last page, so
 * the padded image opens as it is; `cairnctl snapshot restore` strips nothing.
 */
export function snapshotHandler(
  ctx: HandlerContext,
  server: EtcdServer,
): (call: ServerWritableStream<SnapshotRequest, SnapshotResponse>) => void {
  return (call) => {
    ctx.metrics.started.inc(LABELS);
    Promise.resolve()
      .then(() => server.checkStream(requiresLeader(call.metadata)))
      .then(() => streamSnapshot(server, call))
      .then(
        () => ctx.metrics.handled.inc({ ...LABELS, grpc_code: 'OK' }),
        (err: unknown) => {
          const e = toGrpcError(err);
          ctx.metrics.handled.inc({ ...LABELS, grpc_code: status[e.code ?? status.UNKNOWN] });
          ctx.logger.warn('snapshot stream failed', { error: e.message });
          if (!call.cancelled) call.emit('error', e);
        },
      );
  };
}

const LABELS = {
  grpc_type: 'server_stream',
  grpc_service: 'etcdserverpb.Maintenance',
  grpc_method: 'Snapshot',
};

async function streamSnapshot(
  server: EtcdServer,
  call: ServerWritableStream<SnapshotRequest, SnapshotResponse>,
): Promise<void> {
  const copy = await server.snapshotCopy();
  try {
    const fh = await open(copy.file, 'r');
    try {
      const size = (await fh.stat()).size;
      const total = Math.ceil(size / SNAPSHOT_ALIGN_BYTES) * SNAPSHOT_ALIGN_BYTES;
      const sha = createHash('sha256');
      let sent = 0;
      let first = true;
      while (sent < total && !call.cancelled) {
        // A new buffer per message: grpc-js may still hold the previous one when write() returns.
        const n = Math.min(SNAPSHOT_CHUNK_BYTES, total - sent);
        const buf = Buffer.alloc(n);
        if (sent < size) await fh.read(buf, 0, Math.min(n, size - sent), sent);
        sent += n;
        sha.update(buf);
        const msg: SnapshotResponse = {
          header: first ? server.header(copy.revision) : undefined,
          remainingBytes: BigInt(total - sent),
          blob: buf,
          version: '',
        };
        first = false;
        if (!call.write(msg)) await drained(call);
      }
      if (call.cancelled) return;
      call.write({ header: undefined, remainingBytes: 0n, blob: sha.digest(), version: '' });
      call.end();
    } finally {
      await fh.close();
    }
  } finally {
    copy.remove();
  }
}

function drained(call: ServerWritableStream<SnapshotRequest, SnapshotResponse>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}
