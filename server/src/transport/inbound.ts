import { rm } from 'node:fs/promises';
import {
  constants,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { decodeMessage } from '../raftpb/codec.js';
import type { Message } from '../raftpb/types.js';
import { AssertionError } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import { TransportError } from './errors.js';
import { FrameDecoder, FRAME_HEADER_BYTES } from './frame.js';
import {
  HEADER_CLUSTER_ID,
  HEADER_FROM,
  HEADER_SNAPSHOT_BYTES,
  HEADER_TO,
  RAFT_SNAPSHOT_PATH,
  RAFT_STREAM_PATH,
} from './headers.js';
import { idHex, parseIdHex } from './ids.js';
import type { TransportLimits } from './limits.js';
import type { TransportMetrics } from './metrics.js';
import { receiveSnapshot } from './snapshot-receiver.js';
import type { TransportRaft } from './types.js';

export interface InboundDeps {
  clusterId: bigint;
  localId: bigint;
  raft: TransportRaft;
  limits: TransportLimits;
  metrics: TransportMetrics;
  logger: Logger;
  snapshotDir: string;
}

/** Counters of what this member received, for tests and benchmarks. */
export interface InboundStats {
  framesReceived: number;
  streamsAccepted: number;
  requestsRefused: number;
  streamsBroken: number;
  snapshotsReceived: number;
  /** Largest single piece of snapshot data held and written at once: bounded by the HTTP/2 window. */
  snapshotWriteBytesMax: number;
}

/**
 * The receiving side (etcd's streamHandler and snapshotHandler): checks every request's identity
 * headers, then reads frames from /raft/stream into Raft, or a snapshot from /raft/snapshot into a file.
 * Anything malformed from the network closes that one stream with a log line; it never throws.
 */
export class InboundHandler {
  private readonly sessions = new Set<ServerHttp2Session>();
  // The current message stream of each peer; a new stream from the same peer replaces the old one.
  private readonly streams = new Map<bigint, ServerHttp2Stream>();
  // Snapshot receives in progress. Invariant: size <= limits.snapshotReceivesInflightMax.
  private readonly receives = new Set<Promise<void>>();
  private closed = false;
  readonly stats: InboundStats = {
    framesReceived: 0,
    streamsAccepted: 0,
    requestsRefused: 0,
    streamsBroken: 0,
    snapshotsReceived: 0,
    snapshotWriteBytesMax: 0,
  };

  constructor(private readonly d: InboundDeps) {}

  trackSession(session: ServerHttp2Session): void {
    if (this.closed) {
      session.destroy();
      return;
    }
    if (this.sessions.has(session)) return;
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
  }

  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A peer resetting its stream emits 'error' here; the 'close' handlers below do the cleanup.
    stream.on('error', () => undefined);
    if (this.closed) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const session = stream.session;
    if (session !== undefined) this.trackSession(session as ServerHttp2Session);
    const path = headers[':path'];
    if (path !== RAFT_STREAM_PATH && path !== RAFT_SNAPSHOT_PATH) {
      this.refuse(stream, 404, 'invalid path');
      return;
    }
    if (headers[':method'] !== 'POST') {
      this.refuse(stream, 405, 'Method Not Allowed', { allow: 'POST' });
      return;
    }
    const from = this.checkIdentity(stream, headers);
    if (from === undefined) return;
    if (path === RAFT_STREAM_PATH) this.acceptStream(stream, from);
    else this.acceptSnapshot(stream, headers, from);
  }

  /** Destroys inbound sessions (and so their streams) and waits for snapshot receives to clean up. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
    await Promise.allSettled([...this.receives]);
  }

  private checkIdentity(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): bigint | undefined {
    const rawCid = headers[HEADER_CLUSTER_ID];
    const rawFrom = headers[HEADER_FROM];
    if (parseIdHex(rawCid) !== this.d.clusterId) {
      this.d.logger.warn('request cluster ID mismatch', {
        'local-member-id': idHex(this.d.localId),
        'local-member-cluster-id': idHex(this.d.clusterId),
        'remote-peer-cluster-id': typeof rawCid === 'string' ? rawCid : '',
        'remote-peer-id': typeof rawFrom === 'string' ? rawFrom : '',
      });
      this.refuse(stream, 412, 'cluster ID mismatch');
      return undefined;
    }
    const from = parseIdHex(rawFrom);
    if (from === undefined || from === 0n) {
      this.d.logger.warn('failed to parse the sender id', { 'remote-peer-id': String(rawFrom) });
      this.refuse(stream, 400, 'invalid from');
      return undefined;
    }
    const to = parseIdHex(headers[HEADER_TO]);
    if (to !== this.d.localId) {
      this.d.logger.warn('ignored request; ID mismatch', {
        'local-member-id': idHex(this.d.localId),
        'remote-peer-id-header': String(headers[HEADER_TO]),
        'remote-peer-id-from': idHex(from),
      });
      this.refuse(stream, 412, 'to field mismatch');
      return undefined;
    }
    if (this.d.raft.isRemoved(from)) {
      this.d.logger.warn('rejected request from remote peer because it was removed', {
        'local-member-id': idHex(this.d.localId),
        'remote-peer-id-from': idHex(from),
      });
      this.refuse(stream, 410, 'removed member');
      return undefined;
    }
    return from;
  }

  private refuse(
    stream: ServerHttp2Stream,
    status: number,
    text: string,
    extra: Record<string, string> = {},
  ): void {
    this.stats.requestsRefused++;
    if (stream.destroyed || stream.headersSent) {
      stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    stream.respond({
      ':status': status,
      'content-type': 'text/plain',
      [HEADER_CLUSTER_ID]: idHex(this.d.clusterId),
      ...extra,
    });
    stream.end(text);
    stream.resume(); // discard whatever body the sender already put on the wire
  }

  private acceptStream(stream: ServerHttp2Stream, from: bigint): void {
    const label = { From: idHex(from) };
    this.streams.get(from)?.close(constants.NGHTTP2_CANCEL);
    this.streams.set(from, stream);
    this.stats.streamsAccepted++;
    stream.respond({ ':status': 200, [HEADER_CLUSTER_ID]: idHex(this.d.clusterId) });
    const decoder = new FrameDecoder(this.d.limits.frameBytesMax);
    let broken = false;
    const breakStream = (what: string, err: unknown): void => {
      broken = true;
      this.stats.streamsBroken++;
      this.d.metrics.receivedFailures.inc(label);
      this.d.logger.warn(what, {
        'local-member-id': idHex(this.d.localId),
        'remote-peer-id': label.From,
        error: err instanceof Error ? err.message : String(err),
      });
      stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
    };
    stream.on('data', (chunk: Buffer) => {
      if (broken) return;
      if (this.d.raft.isRemoved(from)) {
        breakStream('closed stream from remote peer because it was removed', 'removed member');
        return;
      }
      const { frames, error } = decoder.push(chunk);
      for (const frame of frames) {
        this.d.metrics.receivedBytes.inc(label, frame.length + FRAME_HEADER_BYTES);
        let m: Message;
        try {
          m = decodeMessage(frame);
        } catch (err) {
          breakStream('failed to decode Raft message', err);
          return;
        }
        if (m.to !== this.d.localId || m.from !== from) {
          breakStream(
            'failed to decode Raft message',
            new TransportError(
              'ErrMessageMismatch',
              `message from ${idHex(m.from)} to ${idHex(m.to)} on this stream`,
            ),
          );
          return;
        }
        this.stats.framesReceived++;
        this.process(m);
      }
      if (error !== undefined) breakStream('failed to read Raft message frame', error);
    });
    stream.on('end', () => {
      if (!stream.destroyed) stream.end();
    });
    stream.on('close', () => {
      if (this.streams.get(from) === stream) this.streams.delete(from);
    });
  }

  private process(m: Message): void {
    try {
      this.d.raft.process(m);
    } catch (err) {
      if (err instanceof AssertionError) throw err; // a broken invariant crashes, as everywhere
      this.d.logger.warn('failed to process Raft message', { error: (err as Error).message });
    }
  }

  private acceptSnapshot(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, from: bigint): void {
    const label = { From: idHex(from) };
    const rawSize = headers[HEADER_SNAPSHOT_BYTES];
    const declaredBytes = typeof rawSize === 'string' && /^[0-9]{1,16}$/.test(rawSize) ? Number(rawSize) : -1;
    if (declaredBytes < 0 || declaredBytes > this.d.limits.snapshotBytesMax) {
      this.d.metrics.snapshotReceiveFailures.inc(label);
      this.refuse(stream, 400, `invalid ${HEADER_SNAPSHOT_BYTES}`);
      return;
    }
    if (this.receives.size >= this.d.limits.snapshotReceivesInflightMax) {
      this.d.metrics.snapshotReceiveFailures.inc(label);
      this.refuse(stream, 503, 'too many snapshot receives in flight');
      return;
    }
    const work = this.receiveSnapshot(stream, from, declaredBytes, label);
    this.receives.add(work);
    void work.finally(() => this.receives.delete(work));
  }

  private async receiveSnapshot(
    stream: ServerHttp2Stream,
    from: bigint,
    declaredBytes: number,
    label: { From: string },
  ): Promise<void> {
    let delivered: string | undefined;
    try {
      const { message, payload } = await receiveSnapshot({
        stream,
        localId: this.d.localId,
        from,
        declaredBytes,
        frameBytesMax: this.d.limits.frameBytesMax,
        snapshotDir: this.d.snapshotDir,
        onReceivedBytes: (n) => this.d.metrics.receivedBytes.inc(label, n),
        onDataWritten: (n) => {
          this.stats.snapshotWriteBytesMax = Math.max(this.stats.snapshotWriteBytesMax, n);
        },
      });
      delivered = payload.path;
      this.d.logger.info('received and saved database snapshot', {
        'remote-snapshot-sender-id': label.From,
        'incoming-snapshot-index': message.snapshot?.metadata.index ?? 0,
        'incoming-snapshot-size-bytes': payload.sizeBytes,
      });
      if (this.closed) throw new TransportError('ErrStopped', 'transport stopped');
      await this.d.raft.onSnapshot(message, payload);
      this.stats.snapshotsReceived++;
      this.d.metrics.snapshotReceiveSuccess.inc(label);
      if (!stream.destroyed) {
        stream.respond({ ':status': 204, [HEADER_CLUSTER_ID]: idHex(this.d.clusterId) }, { endStream: true });
      }
    } catch (err) {
      if (err instanceof AssertionError) throw err;
      if (delivered !== undefined) await rm(delivered, { force: true });
      this.d.metrics.snapshotReceiveFailures.inc(label);
      this.d.logger.warn('failed to receive database snapshot', {
        'remote-snapshot-sender-id': label.From,
        error: err instanceof Error ? err.message : String(err),
      });
      const status = err instanceof TransportError ? 400 : 500;
      if (!stream.destroyed) this.refuse(stream, status, 'snapshot not received');
    }
  }
}
