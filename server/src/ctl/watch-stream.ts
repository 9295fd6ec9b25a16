// clientv3 3.4's watcher (clientv3/watch.go) as etcdctl's watch command sees it: all watches of the command
// share one gRPC Watch stream (they use the same context); create requests go out one at a time, each
// after the previous one was acknowledged; a `created` response is not handed to the watch (etcdctl never
// asks for created notifications); a server cancel without compaction closes the watch silently; a
// compaction (or any response whose Err() is set) is handed over and then closes the watch; a response
// for watch id -1 (a progress request's answer) goes to every watch. When the stream fails with
// Unavailable or Internal it is reopened and the watches resume from their next revision; any other
// failure closes every watch with a canceled response carrying the error.
import type * as grpc from '@grpc/grpc-js';
import {
  WatchService,
  type ResponseHeader,
  type WatchRequest,
  type WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { bufferOf, bytesOf } from './byte-string.js';
import type { EtcdClient } from './client.js';
import { nilEventsResponses } from './printer-json.js';
import { GrpcCode, RpcError } from './rpc-error.js';

/** The options of one clientv3.Watch call. Keys are byte strings. */
export interface WatchSpec {
  key: string;
  rangeEnd: string;
  startRevision: bigint;
  prevKv: boolean;
}

/** One value from the watch channel: the response and the text of its Err() (undefined for nil). */
export interface WatchDelivery {
  resp: WatchResponse;
  err: string | undefined;
}

const errCompacted = 'etcdserver: mvcc: required revision has been compacted';
const errFutureRev = 'etcdserver: mvcc: required revision is a future revision';
/** gRPC status codes that rpc-error.ts has no name for. */
const grpcOk = 0;
const grpcInternal = 13;
/** clientv3's InvalidWatchID. */
const invalidWatchId = -1n;
/** Pause before reopening a failed stream (clientv3 waits for a new connection the same way). */
const reopenDelayMs = 100;

/** WatchResponse.Err(). */
export function watchErr(resp: WatchResponse, closeErr?: string): string | undefined {
  if (closeErr !== undefined) return closeErr;
  if (resp.compactRevision !== 0n) return errCompacted;
  if (resp.canceled) return resp.cancelReason !== '' ? resp.cancelReason : errFutureRev;
  return undefined;
}

/** WatchResponse.IsProgressNotify(). */
export function isProgressNotify(resp: WatchResponse): boolean {
  return (
    resp.events.length === 0 &&
    !resp.canceled &&
    !resp.created &&
    resp.compactRevision === 0n &&
    (resp.header?.revision ?? 0n) !== 0n
  );
}

function emptyHeader(): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
}

/** A response as the channel carries it (clientv3 copies only these fields). */
function channelResponse(r: WatchResponse): WatchResponse {
  return {
    header: r.header ?? emptyHeader(),
    watchId: 0n,
    created: r.created,
    canceled: r.canceled,
    compactRevision: r.compactRevision,
    cancelReason: r.cancelReason,
    fragment: false,
    events: r.events,
  };
}

/** One watch channel. */
export class Watcher {
  private readonly queue: (WatchDelivery | undefined)[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  /** The revision to resume from after the stream is reopened. */
  nextRev: bigint;
  /**
   * Settles when the server acknowledged the watch (or it was closed first): clientv3.Watch returns only
   * then, which holds up etcdctl's interactive loop.
   */
  readonly established: Promise<void>;
  private settle: () => void = () => undefined;

  constructor(readonly spec: WatchSpec) {
    this.nextRev = spec.startRevision;
    this.established = new Promise((resolve) => (this.settle = resolve));
  }

  /** The created response arrived. */
  acknowledged(): void {
    this.settle();
  }

  /** The next response, or undefined once the channel is closed. */
  async next(): Promise<WatchDelivery | undefined> {
    while (this.queue.length === 0) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.queue.shift();
  }

  push(d: WatchDelivery | undefined): void {
    if (this.closed) return;
    if (d === undefined) {
      this.closed = true;
      this.settle();
    }
    this.queue.push(d);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

type WatchStream = grpc.ClientDuplexStream<WatchRequest, WatchResponse>;

/** The watches of one command on one gRPC stream. */
export class WatchMux {
  private stream: WatchStream | undefined;
  private opening: Promise<WatchStream> | undefined;
  /** Watches whose create request is queued or unacknowledged, in sending order. */
  private pending: Watcher[] = [];
  private readonly active = new Map<bigint, Watcher>();
  private stopped = false;

  constructor(private readonly client: EtcdClient) {}

  /** clientv3.Watch with WithRequireLeader. */
  watch(spec: WatchSpec): Watcher {
    const w = new Watcher(spec);
    this.pending.push(w);
    if (this.pending.length === 1) void this.sendHead();
    return w;
  }

  /** clientv3.RequestProgress. */
  async requestProgress(): Promise<void> {
    const s = await this.ensureStream();
    s.write({ requestUnion: { $case: 'progressRequest', value: {} } });
  }

  /** Ends the stream (the command is over). */
  stop(): void {
    this.stopped = true;
    this.stream?.cancel();
    this.stream = undefined;
  }

  private ensureStream(): Promise<WatchStream> {
    if (this.stream !== undefined) return Promise.resolve(this.stream);
    this.opening ??= this.client.openStream(WatchService.watch, true).then((s) => {
      this.opening = undefined;
      this.stream = s;
      this.attach(s);
      return s;
    });
    return this.opening;
  }

  private async sendHead(): Promise<void> {
    const s = await this.ensureStream();
    const w = this.pending[0];
    if (w === undefined || this.stream !== s) return;
    s.write({
      requestUnion: {
        $case: 'createRequest',
        value: {
          key: bufferOf(w.spec.key),
          rangeEnd: bufferOf(w.spec.rangeEnd),
          startRevision: w.nextRev,
          progressNotify: false,
          filters: [],
          prevKv: w.spec.prevKv,
          watchId: 0n,
          fragment: false,
        },
      },
    });
  }

  private attach(s: WatchStream): void {
    let done = false;
    const fail = (code: number, desc: string): void => {
      if (done) return;
      done = true;
      this.onStreamError(s, code, desc);
    };
    s.on('data', (r: WatchResponse) => {
      if (!done) this.onResponse(r);
    });
    // The status ends the stream, whatever its code; an OK status is the server closing the stream, which
    // the Go client reads as io.EOF.
    s.on('error', () => undefined);
    s.on('status', (st: grpc.StatusObject) =>
      Number(st.code) === grpcOk ? fail(GrpcCode.unknown, 'EOF') : fail(st.code, bytesOf(st.details)),
    );
  }

  private onResponse(r: WatchResponse): void {
    if (r.created) {
      const w = this.pending.shift();
      w?.acknowledged();
      if (w !== undefined) {
        if (r.watchId === invalidWatchId || (r.canceled && r.cancelReason !== '')) {
          const resp = channelResponse({ ...r, created: false, canceled: true });
          w.push({ resp, err: watchErr(resp) });
          w.push(undefined);
        } else {
          this.active.set(r.watchId, w);
          if (w.spec.startRevision === 0n) w.nextRev = r.header?.revision ?? 0n;
        }
      }
      if (this.pending.length > 0) void this.sendHead();
      return;
    }
    if (r.canceled && r.compactRevision === 0n) {
      const w = this.active.get(r.watchId);
      this.active.delete(r.watchId);
      w?.push(undefined);
      return;
    }
    const targets = r.watchId === invalidWatchId ? [...this.active.values()] : [this.active.get(r.watchId)];
    for (const w of targets) {
      if (w === undefined) continue;
      const resp = channelResponse(r);
      const last = r.events[r.events.length - 1];
      w.nextRev = last?.kv !== undefined ? last.kv.modRevision + 1n : (r.header?.revision ?? w.nextRev);
      const err = watchErr(resp);
      w.push({ resp, err });
      if (err !== undefined) {
        for (const [id, x] of this.active) if (x === w) this.active.delete(id);
        w.push(undefined);
      }
    }
  }

  private onStreamError(s: WatchStream, code: number, desc: string): void {
    if (this.stream !== s || this.stopped) return;
    this.stream = undefined;
    const all = [...this.active.values(), ...this.pending];
    this.active.clear();
    if (code === GrpcCode.unavailable || code === grpcInternal) {
      // clientv3 reopens the stream and resumes every watch.
      this.pending = all;
      setTimeout(() => {
        if (!this.stopped && this.pending.length > 0) void this.sendHead();
      }, reopenDelayMs);
      return;
    }
    this.pending = [];
    const rpc = new RpcError(code, desc);
    const closeErr = rpc.isEtcdError || desc === 'EOF' ? rpc.desc : rpc.message;
    for (const w of all) {
      const resp = channelResponse({
        header: emptyHeader(),
        watchId: 0n,
        created: false,
        canceled: true,
        compactRevision: 0n,
        cancelReason: '',
        fragment: false,
        events: [],
      });
      nilEventsResponses.add(resp);
      w.push({ resp, err: watchErr(resp, closeErr) });
      w.push(undefined);
    }
  }
}
