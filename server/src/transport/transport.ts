import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Registry } from 'prom-client';
import { encodeMessage } from '../raftpb/codec.js';
import { MessageType, NONE, type Message } from '../raftpb/types.js';
import { AssertionError } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import { TransportError } from './errors.js';
import { idHex, validatePeerUrls } from './ids.js';
import { InboundHandler, type InboundStats } from './inbound.js';
import { resolveTransportLimits, type TransportLimits } from './limits.js';
import { newTransportMetrics, type TransportMetrics } from './metrics.js';
import { Peer } from './peer.js';
import type { PeerStats, SnapshotBody, TransportRaft } from './types.js';

export interface TransportOptions {
  clusterId: bigint;
  memberId: bigint;
  raft: TransportRaft;
  /** Where received snapshot data is assembled (created when missing). */
  snapshotDir: string;
  registry: Registry;
  logger: Logger;
  limits?: Partial<TransportLimits>;
  /** Wall clock for activeSince(); Date.now by default. */
  now?: () => number;
  /** Jitter source for reconnect backoff; Math.random by default. */
  random?: () => number;
}

type State = 'new' | 'started' | 'stopped';

/**
 * Carries Raft messages between members (etcd's rafthttp.Transport) over cleartext HTTP/2: a batched,
 * length-prefixed message stream per peer and a chunked request per snapshot. README.md has the wire
 * format. send() never throws and never blocks: what cannot be queued is dropped and reported to Raft
 * (reportUnreachable), which tolerates message loss.
 */
export class Transport {
  readonly limits: TransportLimits;
  private readonly metrics: TransportMetrics;
  private readonly logger: Logger;
  private readonly inbound: InboundHandler;
  private readonly peers = new Map<bigint, Peer>();
  private state: State = 'new';
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: TransportOptions) {
    if (opts.clusterId <= 0n || opts.clusterId >= 1n << 64n) {
      throw new TransportError('ErrInvalidId', `cluster id ${opts.clusterId} is not a non-zero 64-bit id`);
    }
    if (opts.memberId <= 0n || opts.memberId >= 1n << 64n) {
      throw new TransportError('ErrInvalidId', `member id ${opts.memberId} is not a non-zero 64-bit id`);
    }
    this.limits = resolveTransportLimits(opts.limits);
    this.metrics = newTransportMetrics(opts.registry);
    this.logger = opts.logger.child({ component: 'rafthttp', 'local-member-id': idHex(opts.memberId) });
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.inbound = new InboundHandler({
      clusterId: opts.clusterId,
      localId: opts.memberId,
      raft: opts.raft,
      limits: this.limits,
      metrics: this.metrics,
      logger: this.logger,
      snapshotDir: opts.snapshotDir,
    });
  }

  /**
   * Serves the peer endpoints on `server` (its 'stream' and 'session' events). For a server shared with
   * other endpoints, call handleStream() from its own 'stream' listener instead.
   */
  attach(server: Http2Server | Http2SecureServer): void {
    server.on('session', (session) => this.inbound.trackSession(session));
    server.on('stream', (stream, headers) => this.handleStream(stream, headers));
  }

  /** Handles one incoming HTTP/2 stream on /raft/stream or /raft/snapshot (404 for other paths). */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    this.inbound.handleStream(stream, headers);
  }

  /** Dials every peer added so far (and those added later). */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'started';
    for (const p of this.peers.values()) p.start();
  }

  /**
   * Closes peer sessions, in-flight snapshot sends and inbound sessions; bounded by stopTimeoutMs.
   * Raft gets no callback after stop() begins.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    const all = Promise.allSettled([...[...this.peers.values()].map((p) => p.stop()), this.inbound.close()]);
    this.peers.clear();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.limits.stopTimeoutMs);
    });
    const outcome = await Promise.race([all, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn('transport stop timed out; sessions were destroyed', {
        'timeout-ms': this.limits.stopTimeoutMs,
      });
    }
  }

  /**
   * Adds a remote member (peer URLs http://host:port). Adding a known id is ignored, like etcd's AddPeer;
   * use updatePeer to change URLs. Throws TransportError for invalid URLs or ids.
   */
  addPeer(id: bigint, urls: readonly string[]): void {
    if (this.state === 'stopped') return;
    if (id <= 0n || id >= 1n << 64n || id === this.opts.memberId) {
      throw new TransportError('ErrInvalidId', `cannot add peer ${id}: not a remote 64-bit member id`);
    }
    const valid = validatePeerUrls(urls);
    if (this.peers.has(id)) return;
    const peer = new Peer({
      clusterId: this.opts.clusterId,
      localId: this.opts.memberId,
      peerId: id,
      urls: valid,
      limits: this.limits,
      raft: this.opts.raft,
      metrics: this.metrics,
      logger: this.logger,
      now: this.now,
      random: this.random,
    });
    this.peers.set(id, peer);
    this.logger.info('added remote peer', { 'remote-peer-id': idHex(id), 'remote-peer-urls': valid });
    if (this.state === 'started') peer.start();
  }

  /** Removes a peer: closes its session and drops its queue. Unknown ids are ignored. */
  removePeer(id: bigint): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    void peer.stop();
    this.logger.info('removed remote peer', { 'remote-peer-id': idHex(id) });
  }

  /** Replaces a peer's URLs; its session is re-dialled if the URL in use is gone. */
  updatePeer(id: bigint, urls: readonly string[]): void {
    const valid = validatePeerUrls(urls);
    this.peers.get(id)?.update(valid);
  }

  /**
   * Sends Raft messages (a Ready's `messages`, after persisting). Never throws, never blocks: messages to
   * unknown peers are ignored, messages that do not fit the peer's queue are dropped and reported. MsgSnap
   * goes on its own snapshot request; its outcome comes back through reportSnapshot.
   */
  send(msgs: readonly Message[]): void {
    if (this.state === 'stopped') return;
    for (const m of msgs) {
      if (m.to === NONE || m.to === this.opts.memberId) continue;
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.logger.debug('ignored message send request; unknown remote peer target', {
          'message-type': m.type,
          'unknown-target-peer-id': idHex(m.to),
        });
        continue;
      }
      if (m.type === MessageType.MsgSnap && m.snapshot !== undefined) {
        peer.sendSnapshot(m);
        continue;
      }
      let encoded: Uint8Array;
      try {
        encoded = encodeMessage(m);
      } catch (err) {
        if (err instanceof AssertionError) throw err;
        peer.drop(m, `it does not encode (${(err as Error).message})`);
        continue;
      }
      if (encoded.length > this.limits.frameBytesMax) {
        peer.drop(m, `its ${encoded.length} bytes exceed frameBytesMax=${this.limits.frameBytesMax}`);
        continue;
      }
      peer.send(encoded, m);
    }
  }

  /**
   * Sends a MsgSnap whose data is read from `body` chunk by chunk (the MsgSnap's own snapshot.data is
   * ignored): a database need not be held in memory. Its outcome comes back through reportSnapshot;
   * `body` is closed once the send is over (at once for an unknown peer).
   */
  sendSnapshotBody(m: Message, body: SnapshotBody): void {
    const peer = this.state === 'stopped' ? undefined : this.peers.get(m.to);
    if (peer === undefined || m.type !== MessageType.MsgSnap || m.snapshot === undefined) {
      body.close();
      return;
    }
    peer.sendSnapshot(m, body);
  }

  /** When the stream to `id` became active (ms since the epoch); undefined when inactive or unknown. */
  activeSince(id: bigint): number | undefined {
    return this.peers.get(id)?.activeSince();
  }

  /** Outgoing counters of one peer, or undefined when unknown. */
  peerStats(id: bigint): PeerStats | undefined {
    return this.peers.get(id)?.getStats();
  }

  /** Incoming counters (all peers). */
  inboundStats(): Readonly<InboundStats> {
    return this.inbound.stats;
  }
}
