import { constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { encodeMessage } from '../raftpb/codec.js';
import type { Message } from '../raftpb/types.js';
import type { SnapshotBody } from './types.js';
import { assert } from '../util/assert.js';
import { TransportError } from './errors.js';
import { encodeFrames } from './frame.js';
import { HEADER_SNAPSHOT_BYTES, RAFT_SNAPSHOT_PATH } from './headers.js';

export interface SnapshotSendOptions {
  session: ClientHttp2Session;
  /** Identity headers (cluster id, from, to). */
  headers: OutgoingHttpHeaders;
  message: Message;
  snapshotChunkBytes: number;
  snapshotStallTimeoutMs: number;
  snapshotResponseTimeoutMs: number;
  signal: AbortSignal;
  onChunk(bytes: number): void;
  /** Where the data comes from (a file, for a database); default: the message's snapshot.data. */
  body?: SnapshotBody;
}

/**
 * Sends one MsgSnap on its own POST /raft/snapshot request:
 *
 *   ┌──────────────┬──────────────────────────────────────────┬──────────────────────────────┐
 *   │ u32 BE length │ Message, with snapshot.data moved out   │ snapshot.data, raw, chunked  │
 *   └──────────────┴──────────────────────────────────────────┴──────────────────────────────┘
 *   header x-cairn-snapshot-bytes = snapshot.data.length
 *
 * Chunks are written one at a time: a write that returns false waits for 'drain', so at most one chunk
 * (plus HTTP/2's flow-control window) is in flight and a slow receiver slows the sender down instead of
 * growing its buffers. Resolves when the receiver answers 204 (data fsynced, MsgSnap delivered);
 * rejects on any other status, a stream error, a stall longer than snapshotStallTimeoutMs, no answer
 * within snapshotResponseTimeoutMs after the last chunk, or the signal aborting.
 */
export function sendSnapshot(o: SnapshotSendOptions): Promise<number> {
  const snap = o.message.snapshot;
  assert(snap !== undefined, 'sendSnapshot: a MsgSnap carries a snapshot');
  const data = o.body ?? inMemoryBody(snap.data);
  const header = encodeMessage({ ...o.message, snapshot: { ...snap, data: new Uint8Array(0) } });
  return new Promise<number>((resolve, reject) => {
    if (o.signal.aborted) {
      reject(new TransportError('ErrStopped', 'snapshot send aborted'));
      return;
    }
    const req = o.session.request(
      {
        ':method': 'POST',
        ':path': RAFT_SNAPSHOT_PATH,
        'content-type': 'application/octet-stream',
        [HEADER_SNAPSHOT_BYTES]: String(data.size),
        ...o.headers,
      },
      { endStream: false },
    );
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      if (err !== undefined) {
        // Deferred for the reason destroyLater (peer.ts) gives: never reset re-entrantly.
        setImmediate(() => {
          if (!req.destroyed) req.close(constants.NGHTTP2_CANCEL);
        });
        reject(err);
      } else {
        resolve(data.size);
      }
    };
    const arm = (ms: number, what: string): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () => settle(new TransportError('ErrSnapshotTimeout', `snapshot ${what} timed out after ${ms} ms`)),
        ms,
      );
    };
    const onAbort = (): void => settle(new TransportError('ErrStopped', 'snapshot send aborted'));
    o.signal.addEventListener('abort', onAbort);
    req.on('error', (err: Error) => settle(err));
    req.on('close', () =>
      settle(new TransportError('ErrSnapshotRejected', 'snapshot stream closed before an answer')),
    );
    req.on('response', (h) => {
      const status = h[':status'];
      if (status === 204) settle(undefined);
      else
        settle(
          new TransportError('ErrSnapshotRejected', `snapshot refused by the peer: HTTP ${String(status)}`),
        );
    });
    req.resume(); // an error answer's body is small; read and discard it

    let off = 0;
    const pump = (): void => {
      if (settled) return;
      arm(o.snapshotStallTimeoutMs, 'write');
      // Bounded: each iteration writes one chunk and advances off; stops at the first full write buffer.
      while (off < data.size) {
        const end = Math.min(off + o.snapshotChunkBytes, data.size);
        let chunk: Uint8Array;
        try {
          chunk = data.read(off, end - off);
        } catch (err) {
          settle(
            new TransportError('ErrSnapshotRejected', `cannot read snapshot data: ${(err as Error).message}`),
          );
          return;
        }
        const ok = req.write(chunk);
        o.onChunk(end - off);
        off = end;
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
      arm(o.snapshotResponseTimeoutMs, 'response');
    };
    req.write(encodeFrames([header]));
    pump();
  });
}

function inMemoryBody(data: Uint8Array): SnapshotBody {
  return {
    size: data.length,
    read: (offset, length) => data.subarray(offset, offset + length),
    close: () => undefined,
  };
}
