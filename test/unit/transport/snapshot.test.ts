import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { connect, createServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { encodeMessage } from '../../../server/src/raftpb/codec.js';
import { encodeFrames } from '../../../server/src/transport/frame.js';
import { MessageType, newMessage, type Message } from '../../../server/src/raftpb/types.js';
import { connectAll, metricValue, newMember, removeTempDirs, waitFor, type Member } from './harness.js';

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

const T = { timeout: 60_000 };
const MiB = 1024 * 1024;

function msgSnap(from: bigint, to: bigint, index: number, data: Uint8Array): Message {
  return newMessage({
    type: MessageType.MsgSnap,
    from,
    to,
    term: 3,
    snapshot: {
      data,
      metadata: {
        index,
        term: 2,
        confState: {
          voters: [1n, 2n, 3n],
          learners: [],
          votersOutgoing: [],
          learnersNext: [],
          autoLeave: false,
        },
      },
    },
  });
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('transport: snapshots', () => {
  it(
    'sendSnapshotBody reads the data chunk by chunk from the body and closes it once (also for an unknown peer)',
    T,
    async () => {
      const a = await member(1n, { limits: { snapshotChunkBytes: 1 * MiB } });
      const b = await member(2n);
      connectAll([a, b]);
      await waitFor('active', () => a.transport.activeSince(2n) !== undefined);
      const data = randomBytes(5 * MiB + 123);
      const reads: number[] = [];
      let closed = 0;
      a.transport.sendSnapshotBody(msgSnap(1n, 2n, 9, new Uint8Array(0)), {
        size: data.length,
        read: (offset, length) => {
          reads.push(length);
          return data.subarray(offset, offset + length);
        },
        close: () => closed++,
      });
      await waitFor('snapshot reported', () => a.raft.snapshotReports.length === 1, 30_000);
      assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: true }]);
      assert.deepEqual(reads, [MiB, MiB, MiB, MiB, MiB, 123], 'one read per chunk, never the whole');
      assert.equal(closed, 1);
      const got = b.raft.snapshots[0];
      assert.ok(got !== undefined);
      assert.equal(got.payload.sizeBytes, data.length);
      assert.equal(await sha256File(got.payload.path), createHash('sha256').update(data).digest('hex'));

      let closedUnknown = 0;
      a.transport.sendSnapshotBody(msgSnap(1n, 7n, 9, new Uint8Array(0)), {
        size: 1,
        read: () => new Uint8Array(1),
        close: () => closedUnknown++,
      });
      assert.equal(closedUnknown, 1, 'an unknown peer closes the body at once');
    },
  );

  it(
    'streams a 20 MiB snapshot in chunks into a file, then delivers the MsgSnap and reports success',
    T,
    async () => {
      const a = await member(1n, { limits: { snapshotChunkBytes: 1 * MiB } });
      const b = await member(2n);
      connectAll([a, b]);
      await waitFor('active', () => a.transport.activeSince(2n) !== undefined);
      const data = randomBytes(20 * MiB);
      const sha = createHash('sha256').update(data).digest('hex');
      // A message before and after the snapshot on the stream still flows.
      a.transport.send([
        newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 3 }),
        msgSnap(1n, 2n, 0x2710, data),
      ]);
      await waitFor('snapshot reported', () => a.raft.snapshotReports.length === 1, 30_000);
      assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: true }]);
      assert.equal(b.raft.snapshots.length, 1);
      const got = b.raft.snapshots[0];
      assert.ok(got !== undefined);
      assert.equal(got.m.type, MessageType.MsgSnap);
      assert.equal(got.m.from, 1n);
      assert.equal(got.m.snapshot?.metadata.index, 0x2710);
      assert.deepEqual(got.m.snapshot.metadata.confState.voters, [1n, 2n, 3n]);
      assert.equal(got.m.snapshot.data.length, 0, 'the data is in the file, not in the message');
      assert.equal(got.payload.path, `${b.snapshotDir}/0000000000002710.snap.db`);
      assert.equal(got.payload.sizeBytes, 20 * MiB);
      assert.equal(got.payload.sha256, sha);
      assert.equal(statSync(got.payload.path).size, 20 * MiB);
      assert.equal(await sha256File(got.payload.path), sha);
      assert.deepEqual(
        readdirSync(b.snapshotDir).filter((f) => f.endsWith('.part')),
        [],
        'no partial file left behind',
      );
      // Chunked: 20 chunks of 1 MiB, each written only when the stream had room.
      assert.equal(a.transport.peerStats(2n)?.snapshotChunksSent, 20);
      assert.equal(b.raft.processed.filter((m) => m.type === MessageType.MsgHeartbeat).length, 1);
      assert.equal(await metricValue(a.registry, 'etcd_network_snapshot_send_success', { To: '2' }), 1);
      assert.equal(await metricValue(b.registry, 'etcd_network_snapshot_receive_success', { From: '1' }), 1);
      assert.ok(
        (await metricValue(b.registry, 'etcd_network_peer_received_bytes_total', { From: '1' })) > 20 * MiB,
      );
    },
  );

  it(
    'a receiver closed mid-snapshot: the sender reports failure and the partial file is removed',
    T,
    async () => {
      const a = await member(1n, { limits: { snapshotChunkBytes: 256 * 1024 } });
      const b = await member(2n);
      connectAll([a, b]);
      await waitFor('active', () => a.transport.activeSince(2n) !== undefined);
      // Kill the receiver as soon as its partial file has grown past 1 MiB of a 64 MiB transfer.
      const data = randomBytes(64 * MiB);
      a.transport.send([msgSnap(1n, 2n, 9, data)]);
      await waitFor('partial file growing', () =>
        readdirSync(b.snapshotDir).some(
          (f) =>
            f.endsWith('.part') &&
            (statSync(`${b.snapshotDir}/${f}`, { throwIfNoEntry: false })?.size ?? 0) > MiB,
        ),
      );
      await b.close();
      open.splice(open.indexOf(b), 1);
      await waitFor('failure reported', () => a.raft.snapshotReports.length === 1, 30_000);
      assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: false }]);
      assert.ok(a.raft.unreachable.includes(2n));
      assert.equal(b.raft.snapshots.length, 0, 'nothing delivered');
      assert.deepEqual(readdirSync(b.snapshotDir), [], 'partial file removed');
      assert.equal(await metricValue(a.registry, 'etcd_network_snapshot_send_failures', { To: '2' }), 1);
    },
  );

  it(
    'a receiver that fails to take the snapshot (onSnapshot rejects): failure reported, file removed',
    T,
    async () => {
      const a = await member(1n);
      const b = await member(2n);
      b.raft.onSnapshotHook = () => Promise.reject(new Error('disk full'));
      connectAll([a, b]);
      await waitFor('active', () => a.transport.activeSince(2n) !== undefined);
      a.transport.send([msgSnap(1n, 2n, 5, randomBytes(100_000))]);
      await waitFor('failure reported', () => a.raft.snapshotReports.length === 1);
      assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: false }]);
      assert.ok(
        b.logs.some((e) => e.message === 'failed to receive database snapshot' && e.error === 'disk full'),
      );
      assert.equal(existsSync(`${b.snapshotDir}/0000000000000005.snap.db`), false);
    },
  );

  it(
    'a snapshot to a peer that is not connected fails at once; a second one in flight is refused',
    T,
    async () => {
      const a = await member(1n);
      a.transport.addPeer(2n, ['http://127.0.0.1:1']);
      a.transport.start();
      a.transport.send([msgSnap(1n, 2n, 5, new Uint8Array(10))]);
      assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: false }]);
      const c = await member(3n);
      a.transport.addPeer(3n, [c.url]);
      c.transport.start();
      await waitFor('active', () => a.transport.activeSince(3n) !== undefined);
      a.transport.send([msgSnap(1n, 3n, 6, randomBytes(4 * MiB)), msgSnap(1n, 3n, 7, new Uint8Array(10))]);
      assert.deepEqual(
        a.raft.snapshotReports.at(-1),
        { id: 3n, ok: false },
        'second refused while the first is in flight',
      );
      await waitFor('first completes', () => a.raft.snapshotReports.length === 3);
      assert.deepEqual(a.raft.snapshotReports.at(-1), { id: 3n, ok: true });
      assert.equal(c.raft.snapshots.length, 1);
      assert.equal(c.raft.snapshots[0]?.m.snapshot?.metadata.index, 6);
    },
  );

  it(
    'a receiver that stops reading, or never answers: bounded by the stall and response timeouts',
    T,
    async () => {
      // A bare HTTP/2 server: accepts the message stream; on /raft/snapshot it either never reads (the
      // sender's writes stall on flow control) or reads everything and never answers.
      let mode: 'stall' | 'silent' = 'stall';
      const held: ServerHttp2Stream[] = [];
      const server = createServer();
      server.on('stream', (stream, headers) => {
        stream.on('error', () => undefined);
        held.push(stream);
        if (headers[':path'] === '/raft/stream') {
          stream.respond({ ':status': 200 });
          stream.resume();
        } else if (mode === 'stall') {
          stream.pause();
        } else {
          stream.resume();
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const addr = server.address() as AddressInfo;
      const a = await member(1n, { limits: { snapshotStallTimeoutMs: 300, snapshotResponseTimeoutMs: 300 } });
      a.transport.addPeer(2n, [`http://127.0.0.1:${addr.port}`]);
      a.transport.start();
      try {
        await waitFor('active', () => a.transport.activeSince(2n) !== undefined);
        a.transport.send([msgSnap(1n, 2n, 5, randomBytes(8 * MiB))]);
        await waitFor('stall reported', () => a.raft.snapshotReports.length === 1);
        assert.deepEqual(a.raft.snapshotReports, [{ id: 2n, ok: false }]);
        assert.ok(
          a.logs.some(
            (e) =>
              e.message === 'failed to send database snapshot' && /write timed out/.test(String(e.error)),
          ),
        );
        mode = 'silent';
        await waitFor('active again', () => a.transport.activeSince(2n) !== undefined);
        a.transport.send([msgSnap(1n, 2n, 6, randomBytes(64 * 1024))]);
        await waitFor('silence reported', () => a.raft.snapshotReports.length === 2);
        assert.deepEqual(a.raft.snapshotReports[1], { id: 2n, ok: false });
        assert.ok(
          a.logs.some(
            (e) =>
              e.message === 'failed to send database snapshot' && /response timed out/.test(String(e.error)),
          ),
        );
      } finally {
        await a.transport.stop();
        for (const s of held) s.destroy();
        server.close();
      }
    },
  );

  it('the snapshot endpoint checks identity, size and the header message', T, async () => {
    const b = await member(2n);
    const session = connect(b.url);
    const post = (headers: Record<string, string>, body: Uint8Array) =>
      new Promise<unknown>((resolve) => {
        const req = session.request({ ':method': 'POST', ':path': '/raft/snapshot', ...headers });
        req.on('response', (h) => resolve(h[':status']));
        req.on('error', () => resolve('reset'));
        req.on('close', () => resolve('closed'));
        req.resume();
        req.end(body);
      });
    const ok = { 'x-cairn-cluster-id': 'c1', 'x-cairn-from': '1', 'x-cairn-to': '2' };
    const data = new Uint8Array(1000).fill(7);
    const header = encodeFrames([encodeMessage({ ...msgSnap(1n, 2n, 5, new Uint8Array(0)) })]);
    const body = Buffer.concat([header, data]);
    assert.equal(
      await post({ ...ok, 'x-cairn-cluster-id': 'c2', 'x-cairn-snapshot-bytes': '1000' }, body),
      412,
    );
    assert.ok(
      b.logs.some((e) => e.message === 'request cluster ID mismatch' && e['remote-peer-cluster-id'] === 'c2'),
    );
    assert.equal(await post({ ...ok }, body), 400, 'size header missing');
    // Truncated data, and a header that is not a MsgSnap: refused, nothing delivered, no file left.
    assert.notEqual(await post({ ...ok, 'x-cairn-snapshot-bytes': '2000' }, body), 204);
    const notSnap = encodeFrames([encodeMessage(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n }))]);
    assert.notEqual(
      await post({ ...ok, 'x-cairn-snapshot-bytes': '1000' }, Buffer.concat([notSnap, data])),
      204,
    );
    assert.equal(b.raft.snapshots.length, 0);
    assert.deepEqual(readdirSync(b.snapshotDir), []);
    // The same request done right is accepted.
    assert.equal(await post({ ...ok, 'x-cairn-snapshot-bytes': '1000' }, body), 204);
    assert.equal(b.raft.snapshots.length, 1);
    assert.equal(b.raft.snapshots[0]?.payload.sha256, createHash('sha256').update(data).digest('hex'));
    session.destroy();
  });
});
