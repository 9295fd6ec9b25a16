import assert from 'node:assert/strict';
import { connect, constants } from 'node:http2';
import { after, afterEach, describe, it } from 'node:test';
import { MessageType, newMessage } from '../../../server/src/raftpb/types.js';
import { encodeMessage } from '../../../server/src/raftpb/codec.js';
import { encodeFrames } from '../../../server/src/transport/frame.js';
import { TransportError } from '../../../server/src/transport/errors.js';
import { freePort } from '../../framework/ports.js';
import {
  app,
  connectAll,
  listen,
  metricValue,
  newMember,
  removeTempDirs,
  waitFor,
  waitForAsync,
  type Member,
} from './harness.js';

const open: Member[] = [];
async function member(...args: Parameters<typeof newMember>): Promise<Member> {
  const m = await newMember(...args);
  open.push(m);
  return m;
}
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});
after(removeTempDirs);

const T = { timeout: 30_000 };

describe('transport: message streams', () => {
  it('two members exchange messages in order, batched into few writes', T, async () => {
    const [a, b] = [await member(1n), await member(2n)];
    connectAll([a, b]);
    await waitFor(
      'streams active',
      () => a.transport.activeSince(2n) !== undefined && b.transport.activeSince(1n) !== undefined,
    );
    const n = 2000;
    a.transport.send(Array.from({ length: n }, (_, i) => app(1n, 2n, i)));
    b.transport.send(Array.from({ length: n }, (_, i) => app(2n, 1n, i)));
    await waitFor('all delivered', () => b.raft.processed.length === n && a.raft.processed.length === n);
    assert.deepEqual(
      b.raft.processed.map((m) => m.index),
      Array.from({ length: n }, (_, i) => i),
    );
    assert.deepEqual(
      a.raft.processed.map((m) => m.index),
      Array.from({ length: n }, (_, i) => i),
    );
    const m0 = b.raft.processed[7];
    assert.equal(m0?.type, MessageType.MsgApp);
    assert.equal(m0.from, 1n);
    assert.equal(m0.to, 2n);
    assert.deepEqual(m0.entries[0]?.data, new Uint8Array(8).fill(7));
    // Batching: one send() call of 2000 small messages is a handful of writes, not 2000.
    const stats = a.transport.peerStats(2n);
    assert.ok(stats !== undefined);
    assert.equal(stats.framesSent, n);
    assert.ok(stats.writes <= 5, `writes=${stats.writes} for ${n} frames`);
    assert.equal(b.transport.inboundStats().framesReceived, n);
    // Bytes counters on both sides agree.
    const sent = await metricValue(a.registry, 'etcd_network_peer_sent_bytes_total', { To: '2' });
    const received = await metricValue(b.registry, 'etcd_network_peer_received_bytes_total', { From: '1' });
    assert.equal(sent, stats.bytesSent);
    assert.equal(received, sent);
  });

  it('a batch is bounded by batchBytesMax', T, async () => {
    const a = await member(1n, { limits: { batchBytesMax: 4096 } });
    const b = await member(2n);
    connectAll([a, b]);
    await waitFor('stream active', () => a.transport.activeSince(2n) !== undefined);
    // 100 messages of ~1 KiB: at most 3 per 4 KiB write.
    a.transport.send(Array.from({ length: 100 }, (_, i) => app(1n, 2n, i, 1000)));
    await waitFor('delivered', () => b.raft.processed.length === 100);
    const stats = a.transport.peerStats(2n);
    assert.ok(stats !== undefined);
    assert.ok(stats.writes >= 100 / 4, `writes=${stats.writes}`);
    assert.deepEqual(
      b.raft.processed.map((m) => m.index),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('three members: per-peer order is kept in a full mesh', T, async () => {
    const ms = [await member(1n), await member(2n), await member(3n)];
    connectAll(ms);
    await waitFor('mesh active', () =>
      ms.every((x) => ms.every((y) => x === y || x.transport.activeSince(y.id) !== undefined)),
    );
    for (let round = 0; round < 5; round++) {
      for (const x of ms) {
        x.transport.send(
          ms
            .filter((y) => y !== x)
            .flatMap((y) => Array.from({ length: 100 }, (_, i) => app(x.id, y.id, round * 100 + i))),
        );
      }
      await new Promise((r) => setImmediate(r));
    }
    await waitFor('all delivered', () => ms.every((x) => x.raft.processed.length === 1000));
    for (const x of ms) {
      for (const y of ms) {
        if (x === y) continue;
        const fromY = x.raft.processed.filter((m) => m.from === y.id).map((m) => m.index);
        assert.deepEqual(
          fromY,
          Array.from({ length: 500 }, (_, i) => i),
          `${y.id} → ${x.id}`,
        );
      }
    }
  });

  it('send never throws: unknown peers, self, and messages after stop are ignored', T, async () => {
    const a = await member(1n);
    a.transport.start();
    a.transport.send([app(1n, 9n, 0), app(1n, 1n, 0), app(1n, 0n, 0)]);
    await a.transport.stop();
    a.transport.send([app(1n, 2n, 0)]);
    assert.deepEqual(a.raft.unreachable, []);
  });

  it('validates peer URLs, ids and limits with typed errors', T, async () => {
    const a = await member(1n);
    assert.throws(
      () => a.transport.addPeer(2n, []),
      (e) => e instanceof TransportError && e.code === 'ErrInvalidUrl',
    );
    assert.throws(() => a.transport.addPeer(2n, ['https://x:1']), /must be http/);
    assert.throws(() => a.transport.addPeer(2n, ['not a url']), /invalid peer URL/);
    assert.throws(
      () => a.transport.addPeer(1n, ['http://127.0.0.1:1']),
      (e) => e instanceof TransportError && e.code === 'ErrInvalidId',
    );
    await assert.rejects(
      () => newMember(3n, { limits: { sendQueueMessagesMax: 0 }, listen: false }),
      (e) =>
        e instanceof TransportError && e.code === 'ErrInvalidLimit' && /sendQueueMessagesMax/.test(e.message),
    );
  });
});

describe('transport: failures', () => {
  it(
    'a peer that is down: drops past the queue bound, reports unreachable, then connects with backoff',
    T,
    async () => {
      const port = await freePort();
      const a = await member(1n, { limits: { sendQueueMessagesMax: 100 } });
      const b = await member(2n, { listen: false });
      a.transport.addPeer(2n, [`http://127.0.0.1:${port}`]);
      a.transport.start();
      a.transport.send(Array.from({ length: 250 }, (_, i) => app(1n, 2n, i)));
      const stats = a.transport.peerStats(2n);
      assert.equal(stats?.queuedMessages, 100);
      assert.equal(stats.droppedMessages, 150);
      assert.deepEqual(a.raft.unreachable, [2n], 'reported once for the episode');
      assert.equal(await metricValue(a.registry, 'etcd_network_peer_sent_failures_total', { To: '2' }), 150);
      assert.ok(
        a.logs.some((e) => e.message === 'dropped internal Raft message since sending buffer is full'),
      );
      // Let a few connection attempts fail (backoff), then bring the peer up on that port.
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(a.transport.activeSince(2n), undefined);
      await listen(b, port);
      b.transport.start();
      await waitFor('queued messages delivered', () => b.raft.processed.length === 100);
      assert.deepEqual(
        b.raft.processed.map((m) => m.index),
        Array.from({ length: 100 }, (_, i) => i),
        'the first 100 were queued, the rest dropped',
      );
      assert.ok(a.transport.activeSince(2n) !== undefined);
      assert.equal(a.logs.filter((e) => e.message === 'peer became active').length, 1);
      a.transport.send([app(1n, 2n, 1000)]);
      await waitFor('new traffic flows', () => b.raft.processed.length === 101);
    },
  );

  it(
    'a peer that goes away is reported unreachable and inactive once, and reconnects when back',
    T,
    async () => {
      const a = await member(1n);
      let b = await member(2n);
      const port = Number(new URL(b.url).port);
      connectAll([a, b]);
      await waitFor('active', () => a.transport.activeSince(2n) !== undefined);
      await b.close();
      open.splice(open.indexOf(b), 1);
      await waitFor('inactive', () => a.transport.activeSince(2n) === undefined);
      await waitFor('unreachable reported', () => a.raft.unreachable.includes(2n));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(
        a.logs.filter((e) => e.message === 'peer became inactive (message send to peer failed)').length,
        1,
      );
      b = await member(2n, { port });
      b.transport.start();
      await waitFor('active again', () => a.transport.activeSince(2n) !== undefined);
      a.transport.send([app(1n, 2n, 42)]);
      await waitFor('delivered', () => b.raft.processed.some((m) => m.index === 42));
      assert.equal(a.logs.filter((e) => e.message === 'peer became active').length, 2);
    },
  );

  it('refuses a different cluster id with 412 and logs both ids; nothing is delivered', T, async () => {
    const a = await member(1n, { clusterId: 0xaaaan });
    const b = await member(2n, { clusterId: 0xbbbbn });
    connectAll([a, b]);
    a.transport.send([app(1n, 2n, 0)]);
    await waitFor('mismatch logged', () => b.logs.some((e) => e.message === 'request cluster ID mismatch'));
    const line = b.logs.find((e) => e.message === 'request cluster ID mismatch');
    assert.equal(line?.['local-member-cluster-id'], 'bbbb');
    assert.equal(line?.['remote-peer-cluster-id'], 'aaaa');
    await waitFor('sender saw 412', () =>
      a.logs.some((e) => e.message === 'peer refused the message stream' && e.status === 412),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(b.raft.processed.length, 0);
    assert.equal(a.transport.activeSince(2n), undefined);
    assert.ok(b.transport.inboundStats().requestsRefused >= 1);
  });

  it('refuses a removed member (410) and a stream addressed to another member (412)', T, async () => {
    const a = await member(1n);
    const b = await member(2n);
    b.raft.removed.add(1n);
    connectAll([a, b]);
    await waitFor('410 seen', () =>
      a.logs.some((e) => e.message === 'peer refused the message stream' && e.status === 410),
    );
    assert.ok(b.logs.some((e) => e.message === 'rejected request from remote peer because it was removed'));
    // c believes b's URL belongs to member 3.
    const c = await member(4n);
    c.transport.addPeer(3n, [b.url]);
    c.transport.start();
    await waitFor('412 seen', () =>
      c.logs.some((e) => e.message === 'peer refused the message stream' && e.status === 412),
    );
    assert.ok(b.logs.some((e) => e.message === 'ignored request; ID mismatch'));
    assert.equal(b.raft.processed.length, 0);
  });

  it('malformed frames close that stream with a log line; the member keeps serving', T, async () => {
    const b = await member(2n);
    const a = await member(1n);
    connectAll([a, b]);
    await waitFor('active', () => a.transport.activeSince(2n) !== undefined);
    const headers = {
      ':method': 'POST',
      ':path': '/raft/stream',
      'x-cairn-cluster-id': 'c1',
      'x-cairn-from': '5',
      'x-cairn-to': '2',
    };
    const cases: [string, Buffer][] = [
      ['bad length', Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])],
      ['zero length', Buffer.from([0, 0, 0, 0])],
      [
        'garbage bytes',
        encodeFrames([new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]),
      ],
      [
        'message for another member',
        encodeFrames([encodeMessage(newMessage({ type: MessageType.MsgHeartbeat, from: 5n, to: 3n }))]),
      ],
    ];
    for (const [name, bytes] of cases) {
      const before = b.transport.inboundStats().streamsBroken;
      const session = connect(b.url);
      const req = session.request(headers, { endStream: false });
      const closed = new Promise<number>((resolve) => req.on('close', () => resolve(req.rstCode)));
      req.on('error', () => undefined);
      req.resume();
      // A valid frame first: delivered; then the malformed bytes close the stream.
      req.write(
        encodeFrames([
          encodeMessage(newMessage({ type: MessageType.MsgHeartbeat, from: 5n, to: 2n, term: 7 })),
        ]),
      );
      req.write(bytes);
      assert.equal(await closed, constants.NGHTTP2_PROTOCOL_ERROR, name);
      session.destroy();
      assert.equal(b.transport.inboundStats().streamsBroken, before + 1, name);
    }
    assert.equal(b.raft.processed.filter((m) => m.from === 5n && m.term === 7).length, cases.length);
    const warned = b.logs.filter((e) => e.level === 'warn').map((e) => e.message);
    assert.ok(warned.includes('failed to read Raft message frame'));
    assert.ok(warned.includes('failed to decode Raft message'));
    assert.equal(
      await metricValue(b.registry, 'etcd_network_peer_received_failures_total', { From: '5' }),
      cases.length,
    );
    // The real peer's stream was never disturbed.
    a.transport.send([app(1n, 2n, 99)]);
    await waitFor('still serving', () => b.raft.processed.some((m) => m.from === 1n && m.index === 99));
  });

  it('unknown paths are 404 and other methods 405', T, async () => {
    const b = await member(2n);
    const session = connect(b.url);
    const status = (path: string, method: string) =>
      new Promise<unknown>((resolve) => {
        const req = session.request({ ':method': method, ':path': path });
        req.on('response', (h) => resolve(h[':status']));
        req.resume();
      });
    assert.equal(await status('/raft/probing', 'POST'), 404);
    assert.equal(await status('/raft/stream', 'GET'), 405);
    session.destroy();
  });
});

describe('transport: membership, status and RTT', () => {
  it('removePeer closes the session; later messages to it are ignored', T, async () => {
    const [a, b] = [await member(1n), await member(2n)];
    connectAll([a, b]);
    await waitFor(
      'active',
      () => a.transport.activeSince(2n) !== undefined && b.transport.inboundStats().streamsAccepted === 1,
    );
    const bServerSessions = () =>
      new Promise<number>((resolve) => b.server?.server.getConnections((_e, n) => resolve(n)));
    assert.equal(await bServerSessions(), 1, 'the a→b session');
    a.transport.removePeer(2n);
    assert.equal(a.transport.activeSince(2n), undefined);
    assert.equal(a.transport.peerStats(2n), undefined);
    await waitForAsync('a→b connection closed', async () => (await bServerSessions()) === 0);
    a.transport.send([app(1n, 2n, 0)]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(b.raft.processed.length, 0);
    assert.deepEqual(a.raft.unreachable, [], 'no callbacks for a removed peer');
  });

  it('updatePeer moves the session to the new URL', T, async () => {
    const a = await member(1n);
    const b1 = await member(2n);
    const b2 = await member(2n);
    connectAll([a, b1]);
    b2.transport.start();
    await waitFor('active on b1', () => b1.transport.inboundStats().streamsAccepted === 1);
    a.transport.updatePeer(2n, [b2.url]);
    await waitFor(
      'active on b2',
      () => b2.transport.inboundStats().streamsAccepted === 1 && a.transport.activeSince(2n) !== undefined,
    );
    a.transport.send([app(1n, 2n, 5)]);
    await waitFor('delivered to b2', () => b2.raft.processed.length === 1);
    assert.equal(b1.raft.processed.length, 0);
  });

  it('RTT histogram gets observations from PINGs', T, async () => {
    const [a, b] = [await member(1n), await member(2n)];
    connectAll([a, b]);
    const count = async () => {
      const got = await a.registry.getSingleMetric('etcd_network_peer_round_trip_time_seconds')?.get();
      const c = got?.values.find(
        (v) =>
          (v as { metricName?: string }).metricName === 'etcd_network_peer_round_trip_time_seconds_count' &&
          v.labels.To === '2',
      );
      return c?.value ?? 0;
    };
    await waitForAsync('three RTT observations', async () => (await count()) >= 3);
    const text = await a.registry.metrics();
    assert.match(text, /etcd_network_peer_round_trip_time_seconds_bucket\{le="0\.0001",To="2"\}/);
    assert.match(text, /etcd_network_peer_round_trip_time_seconds_bucket\{le="3\.2768",To="2"\}/);
  });
});
