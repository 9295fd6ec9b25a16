import { status } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { EtcdServer } from '../etcdserver/server.js';
import { GRPC_OVERHEAD_BYTES } from '../etcdserver/config.js';
import { toPbKv } from '../etcdserver/responses.js';
import type { Watcher, WatchEvent, WatchSink } from '../mvcc/watcher.js';
import type { WatchServer, WatchCreateRequest, WatchRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { WatchCreateRequest_FilterType as FilterType, WatchResponse } from '../proto/gen/etcdserverpb/rpc.js';
import type { Event } from '../proto/gen/mvccpb/kv.js';
import { Event_EventType } from '../proto/gen/mvccpb/kv.js';
import { toKeyRange } from '../apply/ranges.js';
import { guardStream } from './stream-guard.js';
import type { HandlerContext } from './unary.js';

const SERVICE = 'etcdserverpb.Watch';
/** etcd's reply to a create whose watch id is taken (mvcc.ErrWatcherDuplicateID). */
const DUPLICATE_ID_REASON = 'mvcc: duplicate watch ID provided on the WatchStream';
const EMPTY_RANGE_REASON = 'mvcc: watcher range is empty';
const COMPACTED_REASON = 'etcdserver: mvcc: required revision has been compacted';

interface StreamWatcher {
  readonly watcher: Watcher;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
  /** Events were sent since the last progress tick (then no progress notification is due). */
  sentSinceTick: boolean;
}

type Call = ServerDuplexStream<WatchRequest, WatchResponse>;

/**
 * The Watch service: one bidirectional stream carries many watchers (etcd v3rpc/watch.go).
 *
 * Ordering rules kept here: the `created` reply is written before the watcher is registered, so no
 * event can precede it; a progress reply (watch_id -1) is sent only when every watcher of the stream
 * has caught up, so no event at or below its revision can follow it; when the stream's send buffer is
 * full, the store stops sending to its watchers and replays from history once it drains.
 */
export function watchService(ctx: HandlerContext, server: EtcdServer): WatchServer {
  return {
    watch: (call: Call) => {
      ctx.metrics.started.inc({ grpc_type: 'bidi_stream', grpc_service: SERVICE, grpc_method: 'Watch' });
      new WatchStream(ctx, server, call);
    },
  };
}

class WatchStream implements WatchSink {
  private readonly watchers = new Map<bigint, StreamWatcher>();
  private nextId = 0n;
  private progressDeferred = false;
  private closed = false;
  private readonly ticker: NodeJS.Timeout;
  private readonly maxResponseBytes: number;
  private unguard: () => void = () => undefined;

  constructor(
    private readonly ctx: HandlerContext,
    private readonly server: EtcdServer,
    private readonly call: Call,
  ) {
    this.maxResponseBytes = server.config.maxRequestBytes + GRPC_OVERHEAD_BYTES;
    this.ticker = setInterval(() => this.progressTick(), server.config.watchProgressNotifyIntervalMs);
    this.ticker.unref();
    ctx.streams.add(this.stop);
    const unguard = guardStream(server, call, (err) => this.abort(err));
    if (unguard === undefined) {
      this.close(status.UNAVAILABLE);
      return;
    }
    this.unguard = unguard;
    call.on('data', (req: WatchRequest) => {
      try {
        this.handle(req);
      } catch (err) {
        // A request that breaks the stream must not break the server.
        ctx.logger.warn('watch request failed', { error: (err as Error).message });
        this.close(status.INTERNAL);
      }
    });
    call.on('drain', () => {
      this.server.watchable.scheduleSync();
      this.maybeSendDeferredProgress();
    });
    call.on('end', () => this.close(status.OK));
    call.on('error', () => this.close(status.CANCELLED));
    call.on('cancelled', () => this.close(status.CANCELLED));
  }

  /** Ends the stream because the member stops (the client then fails over). */
  private readonly stop = (): void => {
    this.abort({ code: status.UNAVAILABLE, details: 'etcdserver: server stopped' });
  };

  private abort(err: { code?: status; details?: string }): void {
    if (this.closed) return;
    this.close(err.code ?? status.UNAVAILABLE);
    this.call.emit('error', err);
  }

  get ready(): boolean {
    return !this.closed && !this.call.writableNeedDrain;
  }

  sendEvents(w: Watcher, events: WatchEvent[], rev: number): boolean {
    const sw = this.watchers.get(w.id);
    if (sw === undefined || sw.watcher !== w || this.closed) return false;
    sw.sentSinceTick = true;
    const pbEvents = events.map(toPbEvent);
    const resp = this.response(rev, w.id, { events: pbEvents });
    if (
      sw.fragment &&
      pbEvents.length > 1 &&
      WatchResponse.encode(resp).finish().length > this.maxResponseBytes
    ) {
      return this.sendFragments(rev, w.id, pbEvents);
    }
    const ok = this.write(resp);
    this.maybeSendDeferredProgress();
    return ok;
  }

  sendCompacted(w: Watcher, compactRev: number): void {
    this.watchers.delete(w.id);
    // etcd sends this cancel with header revision 0.
    this.write(this.response(0, w.id, { canceled: true, compactRevision: BigInt(compactRev) }));
    this.maybeSendDeferredProgress();
  }

  onSynced(): void {
    this.maybeSendDeferredProgress();
  }

  private handle(req: WatchRequest): void {
    const u = req.requestUnion;
    if (this.closed || u === undefined) return;
    switch (u.$case) {
      case 'createRequest':
        return this.create(u.value);
      case 'cancelRequest': {
        const sw = this.watchers.get(u.value.watchId);
        if (sw === undefined) return; // etcd does not answer a cancel of an unknown id
        this.watchers.delete(u.value.watchId);
        this.server.watchable.cancel(sw.watcher);
        this.write(this.response(this.server.watchable.rev, u.value.watchId, { canceled: true }));
        this.maybeSendDeferredProgress();
        return;
      }
      case 'progressRequest':
        this.progressDeferred = true;
        this.maybeSendDeferredProgress();
        return;
    }
  }

  private create(c: WatchCreateRequest): void {
    const rev = this.server.watchable.rev;
    const refuse = (reason: string): void => {
      this.write(this.response(rev, -1n, { created: true, canceled: true, cancelReason: reason }));
    };
    // An empty key watches "\0" (etcd); range_end "\0" means every key >= key.
    const key = c.key.length === 0 ? Buffer.from([0]) : c.key;
    const range = toKeyRange(key, c.rangeEnd);
    if (range.end !== undefined && range.end.length > 0 && Buffer.compare(key, range.end) >= 0) {
      return refuse(EMPTY_RANGE_REASON);
    }
    if (c.startRevision < 0n) return refuse(COMPACTED_REASON);
    let id = c.watchId;
    if (id === 0n) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id) || id < 0n) {
      return refuse(DUPLICATE_ID_REASON);
    }
    // `created` first: nothing about this watcher may reach the client before it.
    this.write(this.response(rev, id, { created: true }));
    const watcher = this.server.watchable.watch(
      id,
      {
        range,
        startRev: Number(c.startRevision),
        prevKv: c.prevKv,
        noPut: c.filters.includes(FilterType.NOPUT),
        noDelete: c.filters.includes(FilterType.NODELETE),
      },
      this,
    );
    this.watchers.set(id, {
      watcher,
      progressNotify: c.progressNotify,
      fragment: c.fragment,
      sentSinceTick: false,
    });
  }

  /**
   * Answers a RequestProgress once every watcher on the stream is caught up (etcd progressIfSync, with
   * the deferral of etcd 3.5+): the reply promises that no event at or below its revision follows.
   */
  private maybeSendDeferredProgress(): void {
    if (!this.progressDeferred || this.closed) return;
    for (const sw of this.watchers.values()) if (!this.server.watchable.isSynced(sw.watcher)) return;
    this.progressDeferred = false;
    this.write(this.response(this.server.watchable.rev, -1n, {}));
  }

  /** Periodic progress for idle, caught-up watchers that asked for it (progress_notify). */
  private progressTick(): void {
    if (this.closed || !this.ready) return;
    const rev = this.server.watchable.rev;
    for (const sw of this.watchers.values()) {
      if (sw.progressNotify && !sw.sentSinceTick && this.server.watchable.isSynced(sw.watcher)) {
        this.write(this.response(rev, sw.watcher.id, {}));
      }
      sw.sentSinceTick = false;
    }
  }

  /** Splits one large response into fragments; every part but the last has fragment=true. */
  private sendFragments(rev: number, id: bigint, events: Event[]): boolean {
    let ok = true;
    let part: Event[] = [];
    let size = 0;
    for (const ev of events) {
      const evSize = WatchResponse.encode(this.response(rev, id, { events: [ev] })).finish().length;
      if (part.length > 0 && size + evSize > this.maxResponseBytes) {
        ok = this.write(this.response(rev, id, { events: part, fragment: true })) && ok;
        part = [];
        size = 0;
      }
      part.push(ev);
      size += evSize;
    }
    ok = this.write(this.response(rev, id, { events: part })) && ok;
    return ok;
  }

  private response(rev: number, watchId: bigint, fields: Partial<WatchResponse>): WatchResponse {
    return {
      header: this.server.header(rev),
      watchId,
      created: false,
      canceled: false,
      compactRevision: 0n,
      cancelReason: '',
      fragment: false,
      events: [],
      ...fields,
    };
  }

  private write(resp: WatchResponse): boolean {
    if (this.closed) return false;
    return this.call.write(resp);
  }

  private close(code: status): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.ctx.streams.delete(this.stop);
    this.unguard();
    for (const sw of this.watchers.values()) this.server.watchable.cancel(sw.watcher);
    this.watchers.clear();
    this.ctx.metrics.handled.inc({
      grpc_type: 'bidi_stream',
      grpc_service: SERVICE,
      grpc_method: 'Watch',
      grpc_code: status[code],
    });
    if (code === status.OK) this.call.end();
  }
}

function toPbEvent(e: WatchEvent): Event {
  return {
    type: e.type === 'PUT' ? Event_EventType.PUT : Event_EventType.DELETE,
    kv: toPbKv(e.kv),
    prevKv: e.prevKv === undefined ? undefined : toPbKv(e.prevKv),
  };
}
