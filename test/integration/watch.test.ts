// The Watch stream on the wire, against a real server: the same scenarios run against Debian etcd 3.4
// with CAIRN_TEST_TARGET=etcd, so every expectation here is etcd's behaviour.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { KVClient, WatchClient } from '../../server/src/proto/gen/etcdserverpb/rpc.js';
import { Event_EventType } from '../../server/src/proto/gen/mvccpb/kv.js';
import type { WatchRequest, WatchResponse } from '../../server/src/proto/gen/etcdserverpb/rpc.js';
import {
  compactionRequest,
  deleteRangeRequest,
  putRequest,
  rangeRequest,
} from '../../server/src/proto/messages.js';
import { cairnTarget, etcdctl, startCairn, stopAll } from '../framework/index.js';
import type { Member } from '../framework/index.js';

/** A raw watch stream that collects responses; waits are bounded. */
class Stream {
  readonly got: WatchResponse[] = [];
  private readonly call: ClientDuplexStream<WatchRequest, WatchResponse>;
  private waiters: (() => void)[] = [];

  constructor(client: WatchClient) {
    this.call = client.watch();
    this.call.on('data', (r: WatchResponse) => {
      this.got.push(r);
      this.waiters.splice(0).forEach((w) => w());
    });
    this.call.on('error', () => undefined);
  }

  create(
    fields: Partial<{
      key: string;
      rangeEnd: string;
      startRevision: bigint;
      prevKv: boolean;
      watchId: bigint;
      progressNotify: boolean;
      filters: number[];
    }>,
  ): void {
    this.call.write({
      requestUnion: {
        $case: 'createRequest',
        value: {
          key: Buffer.from(fields.key ?? ''),
          rangeEnd: Buffer.from(fields.rangeEnd ?? ''),
          startRevision: fields.startRevision ?? 0n,
          progressNotify: fields.progressNotify ?? false,
          filters: fields.filters ?? [],
          prevKv: fields.prevKv ?? false,
          watchId: fields.watchId ?? 0n,
          fragment: false,
        },
      },
    });
  }

  cancel(watchId: bigint): void {
    this.call.write({ requestUnion: { $case: 'cancelRequest', value: { watchId } } });
  }

  progress(): void {
    this.call.write({ requestUnion: { $case: 'progressRequest', value: {} } });
  }

  /** Waits until `n` responses have arrived (at most 10 s). */
  async until(n: number): Promise<WatchResponse[]> {
    const deadline = Date.now() + 10_000;
    while (this.got.length < n) {
      if (Date.now() > deadline)
        assert.fail(`timed out waiting for ${n} responses; got ${JSON.stringify(this.got.map(brief))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.got;
  }

  /** Stops reading from the stream (the server's sends back up), or starts again. */
  pause(paused: boolean): void {
    if (paused) this.call.pause();
    else this.call.resume();
  }

  end(): void {
    this.call.end();
  }
}

function short(b: Buffer): string {
  return b.length > 64 ? `<${b.length} bytes>` : b.toString();
}

/** A response reduced to what both servers must agree on. */
function brief(r: WatchResponse): unknown {
  return {
    watchId: Number(r.watchId),
    rev: Number(r.header?.revision ?? 0),
    ...(r.created ? { created: true } : {}),
    ...(r.canceled ? { canceled: true } : {}),
    ...(r.compactRevision !== 0n ? { compactRevision: Number(r.compactRevision) } : {}),
    ...(r.cancelReason !== '' ? { cancelReason: r.cancelReason } : {}),
    ...(r.events.length > 0
      ? {
          events: r.events.map((e) => ({
            type: e.type === Event_EventType.PUT ? 'PUT' : 'DELETE',
            key: e.kv!.key.toString(),
            mod: Number(e.kv!.modRevision),
            ...(e.kv!.value.length > 0 ? { value: short(e.kv!.value) } : {}),
            ...(e.prevKv ? { prev: short(e.prevKv.value) } : {}),
          })),
        }
      : {}),
  };
}

describe('Watch on the wire', () => {
  let m: Member;
  let kv: KVClient;
  let watch: WatchClient;
  const put = (k: string, v: string) =>
    new Promise<void>((res, rej) =>
      kv.put(putRequest({ key: Buffer.from(k), value: Buffer.from(v) }), (e) => (e ? rej(e) : res())),
    );
  const currentRev = () =>
    new Promise<number>((res, rej) =>
      kv.range(rangeRequest({ key: Buffer.from('any') }), (e, r) =>
        e ? rej(e) : res(Number(r.header!.revision)),
      ),
    );
  const del = (k: string) =>
    new Promise<void>((res, rej) =>
      kv.deleteRange(deleteRangeRequest({ key: Buffer.from(k) }), (e) => (e ? rej(e) : res())),
    );

  before(async () => {
    m = await startCairn({ name: 'watch' });
    const ep = m.clientUrl.replace('http://', '');
    kv = new KVClient(ep, credentials.createInsecure());
    watch = new WatchClient(ep, credentials.createInsecure());
    await put('a', '1'); // 2
    await put('a', '2'); // 3
    await put('b', '1'); // 4
    await del('a'); // 5
  });
  after(async () => {
    kv?.close();
    watch?.close();
    await stopAll(m);
  });

  it('replays history from a past revision after the created reply, with prev_kv', async () => {
    const s = new Stream(watch);
    s.create({ key: 'a', startRevision: 2n, prevKv: true });
    const got = await s.until(2);
    s.end();
    assert.deepEqual(got.slice(0, 2).map(brief), [
      { watchId: 0, rev: 5, created: true },
      {
        watchId: 0,
        rev: 5,
        events: [
          { type: 'PUT', key: 'a', mod: 2, value: '1' },
          { type: 'PUT', key: 'a', mod: 3, value: '2', prev: '1' },
          { type: 'DELETE', key: 'a', mod: 5, prev: '2' },
        ],
      },
    ]);
  });

  it('assigns ids from 0, refuses a duplicate client id, answers cancel, and filters', async () => {
    const s = new Stream(watch);
    s.create({ key: 'x' });
    await s.until(1);
    s.create({ key: 'y', watchId: 7n, filters: [1] }); // NODELETE
    await s.until(2);
    s.create({ key: 'z', watchId: 7n });
    await s.until(3);
    s.cancel(0n);
    await s.until(4);
    s.cancel(99n); // unknown: no answer
    await put('y', 'v');
    await del('y');
    await put('x', 'after-cancel');
    const got = (await s.until(5)).map(brief);
    s.end();
    assert.deepEqual(got.slice(0, 4), [
      { watchId: 0, rev: 5, created: true },
      { watchId: 7, rev: 5, created: true },
      {
        watchId: -1,
        rev: 5,
        created: true,
        canceled: true,
        cancelReason: 'mvcc: duplicate watch ID provided on the WatchStream',
      },
      { watchId: 0, rev: 5, canceled: true },
    ]);
    assert.deepEqual(got[4], { watchId: 7, rev: 6, events: [{ type: 'PUT', key: 'y', mod: 6, value: 'v' }] });
    assert.equal(got.length, 5, 'no delete event (filtered), nothing for the canceled watcher');
  });

  it('waits silently for a future start revision, then delivers from it', async () => {
    const now = await currentRev();
    const s = new Stream(watch);
    s.create({ key: 'f', startRevision: BigInt(now + 2) });
    await s.until(1);
    await put('f', 'early'); // now + 1: before the start, not delivered
    await put('f', 'due'); // now + 2
    const got = (await s.until(2)).map(brief);
    s.end();
    assert.deepEqual(got, [
      { watchId: 0, rev: now, created: true },
      { watchId: 0, rev: now + 2, events: [{ type: 'PUT', key: 'f', mod: now + 2, value: 'due' }] },
    ]);
  });

  it(
    'defers a progress request until no watcher on the stream waits for a future revision (etcd 3.5+)',
    { skip: cairnTarget() !== 'cairn' ? 'etcd 3.4 drops such a request instead of deferring it' : false },
    async () => {
      const now = await currentRev();
      const s = new Stream(watch);
      s.create({ key: 'g', startRevision: BigInt(now + 2) });
      await s.until(1);
      s.progress();
      await put('g', 'early'); // now + 1: the watcher still waits
      await put('g', 'due'); // now + 2
      const got = (await s.until(3)).map(brief);
      s.end();
      assert.deepEqual(got.slice(1), [
        { watchId: 0, rev: now + 2, events: [{ type: 'PUT', key: 'g', mod: now + 2, value: 'due' }] },
        { watchId: -1, rev: now + 2 },
      ]);
    },
  );

  it('answers RequestProgress with watch_id -1 and the store revision', async () => {
    const s = new Stream(watch);
    s.create({ key: 'p' });
    await s.until(1);
    s.progress();
    const got = (await s.until(2)).map(brief);
    s.end();
    assert.deepEqual(got[1], { watchId: -1, rev: (got[0] as { rev: number }).rev });
  });

  it('cancels a watcher whose start revision was compacted, after the created reply', async () => {
    await new Promise<void>((res, rej) =>
      kv.compact(compactionRequest(6n, true), (e) => (e ? rej(e) : res())),
    );
    const s = new Stream(watch);
    s.create({ key: 'a', startRevision: 3n });
    const got = (await s.until(2)).map(brief);
    s.end();
    const rev = (got[0] as { rev: number }).rev;
    assert.deepEqual(got, [
      { watchId: 0, rev, created: true },
      { watchId: 0, rev: 0, canceled: true, compactRevision: 6 },
    ]);
  });

  it('lets a consumer that stopped reading fall thousands of events behind, then catch up with no gap and no duplicate', async () => {
    const s = new Stream(watch);
    s.create({ key: 'slow/', rangeEnd: 'slow0' });
    await s.until(1);
    s.pause(true);
    const first = (await currentRev()) + 1;
    const value = 'v'.repeat(1024);
    const total = 3000;
    for (let i = 0; i < total; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => put(`slow/${i + j}`, value)));
    }
    // Writes were never held up by the stuck consumer, which waits in the unsynced group meanwhile.
    assert.equal(await currentRev(), first + total - 1);
    const metrics = await (await fetch(`${m.metricsUrl}/metrics`)).text();
    assert.match(metrics, /^etcd_debugging_mvcc_slow_watcher_total [1-9]/m);
    s.pause(false);
    const deadline = Date.now() + 20_000;
    const revs = (): number[] =>
      s.got.slice(1).flatMap((r) => r.events.map((e) => Number(e.kv!.modRevision)));
    while (revs().length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    s.end();
    assert.deepEqual(
      revs(),
      Array.from({ length: total }, (_, i) => first + i),
    );
  });

  it('works with the npm etcd3 client and with etcdctl watch', async () => {
    const start = (await currentRev()) + 1;
    const client = new Etcd3({ hosts: m.clientUrl });
    try {
      const watcher = await client.watch().prefix('w/').create();
      const seen: string[] = [];
      const done = new Promise<void>((resolve) =>
        watcher.on('put', (kv) => {
          seen.push(`${kv.key.toString()}=${kv.value.toString()}`);
          if (seen.length === 2) resolve();
        }),
      );
      await client.put('w/1').value('one');
      await client.put('w/2').value('two');
      await done;
      await watcher.cancel();
      assert.deepEqual(seen, ['w/1=one', 'w/2=two']);
    } finally {
      client.close();
    }
    const r = await etcdctl(m.clientUrl, ['watch', 'w/1', `--rev=${start}`], { timeoutMs: 2000 });
    assert.equal(r.stdout, 'PUT\nw/1\none\n');
  });
});

describe('Watch progress notifications and fragments', () => {
  let m: Member;
  let kv: KVClient;
  let watch: WatchClient;

  before(async () => {
    // etcd 3.4 calls the flag --experimental-watch-progress-notify-interval.
    const flag =
      cairnTarget() === 'cairn'
        ? '--watch-progress-notify-interval'
        : '--experimental-watch-progress-notify-interval';
    m = await startCairn({ name: 'watch-progress', extraArgs: [`${flag}=200ms`] });
    const ep = m.clientUrl.replace('http://', '');
    kv = new KVClient(ep, credentials.createInsecure());
    watch = new WatchClient(ep, credentials.createInsecure());
  });
  after(async () => {
    kv?.close();
    watch?.close();
    await stopAll(m);
  });

  it('sends periodic progress to idle watchers that asked for it, and only to them', async () => {
    const s = new Stream(watch);
    s.create({ key: 'quiet', progressNotify: true });
    s.create({ key: 'silent', watchId: 5n });
    const got = (await s.until(4)).map(brief);
    s.end();
    assert.deepEqual(got.slice(0, 2), [
      { watchId: 0, rev: 1, created: true },
      { watchId: 5, rev: 1, created: true },
    ]);
    assert.deepEqual(got.slice(2, 4), [
      { watchId: 0, rev: 1 },
      { watchId: 0, rev: 1 },
    ]);
  });

  it('splits a revision larger than the message limit over fragments when the watcher allows it', async () => {
    // The limit is --max-request-bytes + 512 KiB (2 MiB). A request can be at most 1.5 MiB, so the
    // revision is made large through prev_kv: two 700 KB values overwritten in one txn.
    const value = (c: number) => Buffer.alloc(700 * 1024, c);
    const txn = (c: number) =>
      new Promise<void>((res, rej) =>
        kv.txn(
          {
            compare: [],
            success: ['big/1', 'big/2'].map((k) => ({
              request: {
                $case: 'requestPut' as const,
                value: putRequest({ key: Buffer.from(k), value: value(c) }),
              },
            })),
            failure: [],
          },
          (e) => (e ? rej(e) : res()),
        ),
      );
    await txn(0x61);
    const s = new Stream(watch);
    (s as unknown as { call: ClientDuplexStream<WatchRequest, WatchResponse> }).call.write({
      requestUnion: {
        $case: 'createRequest',
        value: {
          key: Buffer.from('big/'),
          rangeEnd: Buffer.from('big0'),
          startRevision: 0n,
          progressNotify: false,
          filters: [],
          prevKv: true,
          watchId: 0n,
          fragment: true,
        },
      },
    });
    await s.until(1);
    await txn(0x62);
    const got = await s.until(3);
    s.end();
    assert.equal(got[1]!.fragment, true);
    assert.equal(got[2]!.fragment, false);
    const events = [...got[1]!.events, ...got[2]!.events];
    assert.deepEqual(
      events.map((e) => [e.kv!.key.toString(), e.kv!.value[0], e.prevKv!.value[0]]),
      [
        ['big/1', 0x62, 0x61],
        ['big/2', 0x62, 0x61],
      ],
      'one revision, reassembled in order',
    );
  });
});
