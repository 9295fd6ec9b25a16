import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import type { Message } from '../raftpb/types.js';
import type { Logger } from '../util/logger.js';
import { Backoff } from './backoff.js';
import { HEADER_CLUSTER_ID, HEADER_FROM, HEADER_TO, RAFT_STREAM_PATH } from './headers.js';
import { idHex } from './ids.js';
import type { TransportLimits } from './limits.js';
import type { TransportMetrics } from './metrics.js';
import { PeerStatus } from './peer-status.js';
import { sendSnapshot } from './snapshot-sender.js';
import { StreamWriter } from './stream-writer.js';
import type { PeerStats, TransportRaft, SnapshotBody } from './types.js';
import { UrlPicker } from './url-picker.js';

export interface PeerDeps {
  clusterId: bigint;
  localId: bigint;
  peerId: bigint;
  urls: string[];
  limits: TransportLimits;
  raft: TransportRaft;
  metrics: TransportMetrics;
  logger: Logger;
  now: () => number;
  random: () => number;
}

/**
 * One remote member as seen by the sender: an HTTP/2 session to one of its URLs carrying one long-lived
 * POST /raft/stream (the batched message stream) and, when needed, a POST /raft/snapshot. The session is
 * re-dialled with backoff after any failure, rotating through the peer's URLs; an HTTP/2 PING every
 * rttProbeIntervalMs measures the round trip and detects a dead connection.
 */
export class Peer {
  private readonly picker: UrlPicker;
  private readonly status: PeerStatus;
  private readonly backoff: Backoff;
  private readonly writer: StreamWriter;
  private readonly headers: OutgoingHttpHeaders;
  private readonly label: { To: string };
  // The current attempt's session (its /raft/stream is the writer's, once accepted).
  private session: ClientHttp2Session | undefined;
  private sessionUrl = '';
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingDeadline: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  // Reported once per loss episode (queue overflow or stream loss) rather than per dropped message:
  // Raft only needs to know once that the follower must be probed again.
  private unreachableReported = false;
  // At most one snapshot in flight per peer; Raft sends the next MsgSnap only after a report.
  private snapshotAbort: AbortController | undefined;
  private readonly stats: Omit<PeerStats, 'queuedMessages'> = {
    framesSent: 0,
    writes: 0,
    bytesSent: 0,
    droppedMessages: 0,
    snapshotChunksSent: 0,
    streamsOpened: 0,
  };

  constructor(private readonly d: PeerDeps) {
    this.picker = new UrlPicker(d.urls);
    this.status = new PeerStatus(d.peerId, d.logger, d.now);
    this.backoff = new Backoff(d.limits.backoffMinMs, d.limits.backoffMaxMs, d.random);
    this.label = { To: idHex(d.peerId) };
    this.headers = {
      [HEADER_CLUSTER_ID]: idHex(d.clusterId),
      [HEADER_FROM]: idHex(d.localId),
      [HEADER_TO]: idHex(d.peerId),
    };
    this.writer = new StreamWriter({
      sendQueueMessagesMax: d.limits.sendQueueMessagesMax,
      batchBytesMax: d.limits.batchBytesMax,
      onWrite: (frames, bytes) => {
        this.stats.framesSent += frames;
        this.stats.writes++;
        this.stats.bytesSent += bytes;
        this.d.metrics.sentBytes.inc(this.label, bytes);
        this.unreachableReported = false;
      },
    });
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.d.logger.info('starting remote peer', { 'remote-peer-id': this.label.To });
    this.connect();
  }

  /** Queues an encoded message; drops it when the queue is full (never blocks). */
  send(encoded: Uint8Array, m: Message): void {
    if (this.stopped) return;
    if (this.writer.enqueue(encoded)) return;
    this.drop(m, 'sending buffer is full');
  }

  /** Drops `m`, counting it and telling Raft (once per episode) that the peer is unreachable. */
  drop(m: Message, why: string): void {
    this.stats.droppedMessages++;
    this.d.metrics.sentFailures.inc(this.label);
    if (this.unreachableReported) return;
    this.unreachableReported = true;
    this.d.logger.warn(`dropped internal Raft message since ${why}`, {
      'message-type': m.type,
      'remote-peer-id': this.label.To,
      'remote-peer-active': this.status.isActive(),
    });
    this.d.raft.reportUnreachable(this.d.peerId);
  }

  sendSnapshot(m: Message, body?: SnapshotBody): void {
    if (this.stopped) {
      body?.close();
      return;
    }
    const index = m.snapshot?.metadata.index ?? 0;
    const session = this.session;
    if (this.snapshotAbort !== undefined || session === undefined || !this.status.isActive()) {
      const why =
        this.snapshotAbort !== undefined ? 'a snapshot is already in flight' : 'peer is not connected';
      this.d.logger.warn('failed to send database snapshot', {
        'snapshot-index': index,
        'remote-peer-id': this.label.To,
        error: why,
      });
      body?.close();
      this.snapshotFailed();
      return;
    }
    const abort = new AbortController();
    this.snapshotAbort = abort;
    const bytes = body?.size ?? m.snapshot?.data.length ?? 0;
    const start = this.d.now();
    this.d.logger.info('sending database snapshot', {
      'snapshot-index': index,
      'remote-peer-id': this.label.To,
      bytes,
    });
    sendSnapshot({
      session,
      headers: this.headers,
      message: m,
      snapshotChunkBytes: this.d.limits.snapshotChunkBytes,
      snapshotStallTimeoutMs: this.d.limits.snapshotStallTimeoutMs,
      snapshotResponseTimeoutMs: this.d.limits.snapshotResponseTimeoutMs,
      signal: abort.signal,
      body,
      onChunk: (n) => {
        this.stats.snapshotChunksSent++;
        this.d.metrics.sentBytes.inc(this.label, n);
      },
    })
      .finally(() => body?.close())
      .then(
        () => {
          this.snapshotAbort = undefined;
          if (abort.signal.aborted) return; // stopped or removed: no more callbacks for this peer
          this.status.activate();
          this.d.metrics.snapshotSendSuccess.inc(this.label);
          this.d.logger.info('sent database snapshot', {
            'snapshot-index': index,
            'remote-peer-id': this.label.To,
            bytes,
            'took-ms': this.d.now() - start,
          });
          this.d.raft.reportSnapshot(this.d.peerId, true);
        },
        (err: unknown) => {
          this.snapshotAbort = undefined;
          if (abort.signal.aborted) return;
          this.d.logger.warn('failed to send database snapshot', {
            'snapshot-index': index,
            'remote-peer-id': this.label.To,
            bytes,
            error: err instanceof Error ? err.message : String(err),
          });
          this.snapshotFailed();
        },
      );
  }

  private snapshotFailed(): void {
    this.d.metrics.snapshotSendFailures.inc(this.label);
    this.d.metrics.sentFailures.inc(this.label);
    this.d.raft.reportUnreachable(this.d.peerId);
    this.d.raft.reportSnapshot(this.d.peerId, false);
  }

  /** New URLs; the session is re-dialled when its URL is no longer listed. */
  update(urls: string[]): void {
    const changed = this.picker.update(urls);
    this.d.logger.info('updated remote peer', { 'remote-peer-id': this.label.To, urls });
    if (changed && this.session !== undefined) this.fail(this.session, 'peer URLs updated');
  }

  activeSince(): number | undefined {
    return this.status.activeSince();
  }

  getStats(): PeerStats {
    return { queuedMessages: this.writer.queued(), ...this.stats };
  }

  /** Closes the session and in-flight requests; no callback into Raft follows. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.snapshotAbort?.abort();
    this.writer.clear();
    const session = this.session;
    this.teardown();
    this.d.logger.info('stopped remote peer', { 'remote-peer-id': this.label.To });
    if (session !== undefined && !session.closed) {
      await new Promise<void>((resolve) => session.once('close', () => resolve()));
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.picker.pick();
    this.sessionUrl = url;
    const session = connect(url, { settings: { initialWindowSize: this.d.limits.streamWindowBytes } });
    this.session = session;
    session.on('error', (err: Error) => this.fail(session, `session error: ${err.message}`));
    session.on('close', () => this.fail(session, 'session closed'));
    session.once('connect', () => {
      session.setLocalWindowSize(this.d.limits.sessionWindowBytes);
    });
    const stream = session.request(
      { ':method': 'POST', ':path': RAFT_STREAM_PATH, ...this.headers },
      { endStream: false },
    );
    this.connectTimer = setTimeout(
      () => this.fail(session, `no answer within connectTimeoutMs=${this.d.limits.connectTimeoutMs}`),
      this.d.limits.connectTimeoutMs,
    );
    this.connectTimer.unref();
    stream.on('response', (h) => {
      clearTimeout(this.connectTimer);
      const status = h[':status'];
      if (status !== 200) {
        this.d.logger.warn('peer refused the message stream', {
          'remote-peer-id': this.label.To,
          status,
          url,
        });
        this.fail(session, `stream refused: HTTP ${String(status)}`);
        // 410: the peer's membership says we were removed (etcd's errMemberRemoved).
        if (status === 410) this.d.raft.onRemoved?.();
        return;
      }
      if (this.session !== session) return;
      this.stats.streamsOpened++;
      this.backoff.reset();
      this.status.activate();
      this.writer.attach(stream);
      this.startProbing(session);
    });
    stream.on('error', (err: Error) => this.fail(session, `stream error: ${err.message}`));
    stream.on('close', () => this.fail(session, 'stream closed'));
    stream.resume(); // the receiver never sends a body on the stream; drain it anyway
  }

  private startProbing(session: ClientHttp2Session): void {
    const { rttProbeIntervalMs, rttProbeTimeoutMs } = this.d.limits;
    let outstanding = false;
    this.pingTimer = setInterval(() => {
      if (outstanding || session.destroyed) return;
      outstanding = true;
      this.pingDeadline = setTimeout(
        () => this.fail(session, `ping unanswered for ${rttProbeTimeoutMs} ms`),
        rttProbeTimeoutMs,
      );
      this.pingDeadline.unref();
      const sent = session.ping((err, durationMs) => {
        outstanding = false;
        clearTimeout(this.pingDeadline);
        if (err === null) this.d.metrics.roundTripSeconds.observe(this.label, durationMs / 1000);
      });
      if (!sent) {
        outstanding = false;
        clearTimeout(this.pingDeadline);
      }
    }, rttProbeIntervalMs);
    this.pingTimer.unref();
  }

  /** The current attempt failed: tear it down, tell Raft if messages were likely lost, retry later. */
  private fail(session: ClientHttp2Session, reason: string): void {
    if (session !== this.session || this.stopped) return;
    const wasActive = this.status.isActive();
    this.teardown();
    this.picker.unreachable(this.sessionUrl);
    this.status.deactivate(reason);
    if (wasActive && !this.unreachableReported) {
      this.unreachableReported = true;
      this.d.raft.reportUnreachable(this.d.peerId);
    }
    const delay = this.backoff.next();
    this.d.logger.debug('peer connection failed; retrying', {
      'remote-peer-id': this.label.To,
      reason,
      'retry-in-ms': delay,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private teardown(): void {
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pingDeadline);
    this.writer.detach();
    const session = this.session;
    this.session = undefined;
    if (session !== undefined) destroyLater(session);
  }
}

/**
 * Destroys an HTTP/2 session or stream on the next turn, never from inside one of its own event handlers.
 * Node 20's http2 spins forever (RstStream → SendPendingData, memory growing) when a session whose
 * socket the peer just closed is destroyed re-entrantly from a stream's 'close'/'error' handler while
 * another stream still has data queued (seen with a snapshot in flight). Deferring lets Node finish its
 * own teardown first; destroying an already destroyed session is skipped.
 */
export function destroyLater(target: { destroyed: boolean; destroy(): void }): void {
  setImmediate(() => {
    if (!target.destroyed) target.destroy();
  });
}
