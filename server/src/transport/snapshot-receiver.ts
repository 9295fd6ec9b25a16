import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { ServerHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { decodeMessage } from '../raftpb/codec.js';
import { MessageType, type Message } from '../raftpb/types.js';
import { TransportError } from './errors.js';
import { FRAME_HEADER_BYTES } from './frame.js';
import { idHex } from './ids.js';
import type { SnapshotPayload } from './types.js';

export interface SnapshotReceiveOptions {
  stream: ServerHttp2Stream;
  localId: bigint;
  from: bigint;
  /** Declared size of the data after the message header (x-cairn-snapshot-bytes). */
  declaredBytes: number;
  frameBytesMax: number;
  snapshotDir: string;
  onReceivedBytes(n: number): void;
  /** Called per write to the file, with its size (tests check the pieces stay small). */
  onDataWritten(n: number): void;
}

export interface ReceivedSnapshot {
  message: Message;
  payload: SnapshotPayload;
}

/**
 * Reads a /raft/snapshot body (snapshot-sender.ts draws the layout) into `<snapshotDir>/<index>.snap.db`
 * (etcd's name for a received database image): the data is streamed to a `.part` file chunk by chunk —
 * `for await` reads the next chunk only after the previous one is written, so memory stays at one chunk
 * plus the HTTP/2 window — then fsynced and renamed. Throws TransportError for a malformed body (the
 * caller answers 400) and fs errors as they come (500); the partial file is removed on any failure.
 */
export async function receiveSnapshot(o: SnapshotReceiveOptions): Promise<ReceivedSnapshot> {
  await mkdir(o.snapshotDir, { recursive: true });
  const part = join(o.snapshotDir, `.${idHex(o.from)}-${randomBytes(6).toString('hex')}.snap.db.part`);
  const fh = await open(part, 'wx');
  let closed = false;
  try {
    const hash = createHash('sha256');
    let header: Buffer[] = [];
    let headerBytes = 0;
    let message: Message | undefined;
    let received = 0;
    // destroyOnReturn: false keeps the stream usable when the loop throws, so the caller can still
    // answer 400 instead of resetting the stream.
    for await (const raw of o.stream.iterator({ destroyOnReturn: false })) {
      let chunk = raw as Buffer;
      o.onReceivedBytes(chunk.length);
      if (message === undefined) {
        // The header is small (metadata only); pieces are joined once it is complete.
        header.push(chunk);
        headerBytes += chunk.length;
        if (headerBytes < FRAME_HEADER_BYTES) continue;
        const joined = Buffer.concat(header, headerBytes);
        const len = joined.readUInt32BE(0);
        if (len === 0 || len > o.frameBytesMax) {
          throw new TransportError(
            'ErrFrameTooLarge',
            `snapshot message header of ${len} bytes is out of range`,
          );
        }
        if (headerBytes < FRAME_HEADER_BYTES + len) {
          header = [joined];
          continue;
        }
        message = decodeHeader(joined.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + len), o);
        header = [];
        chunk = joined.subarray(FRAME_HEADER_BYTES + len);
        if (chunk.length === 0) continue;
      }
      received += chunk.length;
      if (received > o.declaredBytes) {
        throw new TransportError(
          'ErrSnapshotSize',
          `snapshot data exceeds the declared ${o.declaredBytes} bytes`,
        );
      }
      hash.update(chunk);
      await fh.write(chunk);
      o.onDataWritten(chunk.length);
    }
    if (message === undefined)
      throw new TransportError('ErrMessageDecode', 'snapshot body ended inside its header');
    if (received !== o.declaredBytes) {
      throw new TransportError(
        'ErrSnapshotSize',
        `snapshot data truncated: ${received} of ${o.declaredBytes} bytes`,
      );
    }
    await fh.sync();
    await fh.close();
    closed = true;
    const index = message.snapshot?.metadata.index ?? 0;
    const path = join(o.snapshotDir, `${index.toString(16).padStart(16, '0')}.snap.db`);
    await rename(part, path);
    return { message, payload: { path, sizeBytes: received, sha256: hash.digest('hex') } };
  } catch (err) {
    if (!closed) await fh.close().catch(() => undefined);
    await rm(part, { force: true });
    throw err;
  }
}

function decodeHeader(bytes: Uint8Array, o: SnapshotReceiveOptions): Message {
  let m: Message;
  try {
    m = decodeMessage(bytes);
  } catch (err) {
    throw new TransportError('ErrMessageDecode', `snapshot message header: ${(err as Error).message}`);
  }
  if (m.type !== MessageType.MsgSnap || m.snapshot === undefined) {
    throw new TransportError(
      'ErrMessageMismatch',
      `unexpected Raft message type ${m.type} on the snapshot endpoint`,
    );
  }
  if (m.to !== o.localId || m.from !== o.from) {
    throw new TransportError(
      'ErrMessageMismatch',
      `snapshot from ${idHex(m.from)} to ${idHex(m.to)} on a request from ${idHex(o.from)}`,
    );
  }
  return m;
}
