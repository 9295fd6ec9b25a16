import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { DataDirError } from '../../../server/src/etcdserver/bootstrap.js';
import { parseServerArgs, type ServerConfig } from '../../../server/src/etcdserver/config.js';
import {
  bootstrapMember,
  decodeWalMetadata,
  encodeWalMetadata,
  type BootstrappedMember,
} from '../../../server/src/etcdserver/member-bootstrap.js';
import { closePeerApiSessions, servePeerApi } from '../../../server/src/etcdserver/peer-api.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => {
  closePeerApiSessions();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-member-bootstrap-'));
  dirs.push(d);
  return d;
}

function config(args: string[]): ServerConfig {
  const parsed = parseServerArgs(args, {});
  assert.equal(parsed.kind, 'run');
  return parsed.config;
}

const defaultArgs = (dataDir: string): string[] => [
  '--name',
  'default',
  '--initial-advertise-peer-urls',
  'http://localhost:2380',
  '--data-dir',
  dataDir,
];

function start(cfg: ServerConfig): Promise<BootstrappedMember> {
  return bootstrapMember(cfg, newLogger('error', true), new Registry(), (err) => {
    throw err;
  });
}

async function close(m: BootstrappedMember): Promise<void> {
  await m.raft.wal.close();
  await m.dir.backend.close();
  m.dir.release();
}

async function refusal(cfg: ServerConfig): Promise<DataDirError> {
  let m: BootstrappedMember;
  try {
    m = await start(cfg);
  } catch (err) {
    assert.ok(err instanceof DataDirError, `not a DataDirError: ${String(err)}`);
    return err;
  }
  await close(m);
  assert.fail('bootstrapMember accepted the data dir');
}

/** A 127.0.0.1 port nothing listens on (it was free a moment ago). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('WAL metadata', () => {
  it('round-trips member and cluster ids, including ids above 2^63', () => {
    for (const id of [
      { memberId: 0x8e9e_05c5_2164_694dn, clusterId: 0xcdf8_1819_4e3a_8c32n },
      { memberId: 1n, clusterId: 2n ** 64n - 1n },
      { memberId: 0n, clusterId: 0n },
    ]) {
      assert.deepEqual(decodeWalMetadata(encodeWalMetadata(id)), id);
    }
  });

  it('skips unknown fields', () => {
    const known = encodeWalMetadata({ memberId: 5n, clusterId: 6n });
    // field 3, varint 1; field 4, length-delimited "ab"
    const withExtra = Buffer.concat([Buffer.from([0x18, 0x01, 0x22, 0x02, 0x61, 0x62]), known]);
    assert.deepEqual(decodeWalMetadata(withExtra), { memberId: 5n, clusterId: 6n });
  });
});

describe('bootstrapMember', () => {
  it("a new default member gets etcd's ids and a bootstrap configuration holding itself", async () => {
    const dataDir = join(tempDir(), 'default.etcd');
    const m = await start(config(defaultArgs(dataDir)));
    try {
      assert.equal(m.mode, 'new');
      assert.equal(m.dir.identity.memberId.toString(16), '8e9e05c52164694d');
      assert.equal(m.dir.identity.clusterId.toString(16), 'cdf818194e3a8c32');
      assert.equal(m.cluster.clusterId.toString(16), 'cdf818194e3a8c32');
      const members = m.cluster.members();
      assert.equal(members.length, 1);
      assert.equal(members[0]!.id.toString(16), '8e9e05c52164694d');
      assert.deepEqual(members[0]!.peerURLs, ['http://localhost:2380']);
      assert.equal(m.raft.fresh, true);
      assert.deepEqual(decodeWalMetadata(m.raft.metadata), m.dir.identity);
      assert.deepEqual(m.raft.snapshot.metadata.confState.voters, [0x8e9e_05c5_2164_694dn]);
      assert.equal(m.raft.snapshot.metadata.index, 1);
    } finally {
      await close(m);
    }
  });

  it('a restart keeps its identity and ignores a changed --initial-cluster-token', async () => {
    const dataDir = join(tempDir(), 'default.etcd');
    const first = await start(config(defaultArgs(dataDir)));
    const identity = first.dir.identity;
    await close(first);
    const again = await start(config([...defaultArgs(dataDir), '--initial-cluster-token', 'another-token']));
    try {
      assert.equal(again.mode, 'restart');
      assert.deepEqual(again.dir.identity, identity);
      assert.equal(again.raft.fresh, false);
      assert.equal(again.cluster.clusterId, identity.clusterId);
      assert.deepEqual(
        again.cluster.members().map((x) => x.id),
        [identity.memberId],
      );
    } finally {
      await close(again);
    }
    // The token does change the ids of a new member, so ignoring it above is not a coincidence.
    const other = await start(
      config([...defaultArgs(join(tempDir(), 'x.etcd')), '--initial-cluster-token', 'another-token']),
    );
    try {
      assert.notEqual(other.dir.identity.memberId, identity.memberId);
    } finally {
      await close(other);
    }
  });

  it("refuses a --wal-dir holding another member's WAL", async () => {
    const root = tempDir();
    const walDir = join(root, 'wal');
    // Member "a" creates the WAL in walDir.
    const a = await start(
      config([
        '--name',
        'a',
        '--initial-advertise-peer-urls',
        'http://127.0.0.1:12380',
        '--data-dir',
        join(root, 'a'),
        '--wal-dir',
        walDir,
      ]),
    );
    const aId = a.dir.identity;
    await close(a);
    // Member "b" has its own (restart-mode) data dir...
    const bArgs = ['--name', 'b', '--initial-advertise-peer-urls', 'http://127.0.0.1:22380'];
    const b = await start(config([...bArgs, '--data-dir', join(root, 'b')]));
    const bId = b.dir.identity;
    await close(b);
    assert.notEqual(aId.memberId, bId.memberId);
    // ...but is pointed at a's WAL.
    const err = await refusal(config([...bArgs, '--data-dir', join(root, 'b'), '--wal-dir', walDir]));
    assert.match(err.message, /belongs to member/);
    assert.ok(err.message.includes(aId.memberId.toString(16)), err.message);
    assert.ok(err.message.includes(bId.memberId.toString(16)), err.message);
    // The refusal released the data dir: b can still start with its own WAL.
    const b2 = await start(config([...bArgs, '--data-dir', join(root, 'b')]));
    try {
      assert.equal(b2.mode, 'restart');
    } finally {
      await close(b2);
    }
  });

  it('refuses a non-empty --wal-dir when the data dir is empty', async () => {
    const root = tempDir();
    const walDir = join(root, 'wal');
    const args = ['--name', 'default', '--initial-advertise-peer-urls', 'http://localhost:2380'];
    const m = await start(config([...args, '--data-dir', join(root, 'one'), '--wal-dir', walDir]));
    await close(m);
    const emptyDataDir = join(root, 'two');
    const err = await refusal(config([...args, '--data-dir', emptyDataDir, '--wal-dir', walDir]));
    assert.match(err.message, /holds a WAL but data dir .* is empty/);
    // Nothing was created in the empty data dir.
    let entries: string[] = [];
    try {
      entries = readdirSync(emptyDataDir);
    } catch {
      entries = [];
    }
    assert.deepEqual(entries, []);
  });

  it('--initial-cluster-state existing with unreachable peers fails to fetch the cluster', async () => {
    const root = tempDir();
    const port = await deadPort();
    const cfg = config([
      '--name',
      'new',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:32380',
      '--initial-cluster',
      `old=http://127.0.0.1:${port},new=http://127.0.0.1:32380`,
      '--initial-cluster-state',
      'existing',
      '--data-dir',
      join(root, 'new'),
    ]);
    const err = await refusal(cfg);
    assert.match(err.message, /cannot fetch cluster info from peer urls/);
    assert.ok(err.message.includes(`127.0.0.1:${port}`), err.message);
  });

  it('--initial-cluster-state existing with no other member listed fails the same way', async () => {
    const root = tempDir();
    const cfg = config([
      '--name',
      'solo',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:32381',
      '--initial-cluster-state',
      'existing',
      '--data-dir',
      join(root, 'solo'),
    ]);
    const err = await refusal(cfg);
    assert.match(err.message, /cannot fetch cluster info from peer urls.*no other members listed/);
  });

  it('refuses a data dir that is not empty and not a Cairn data dir', async () => {
    const root = tempDir();
    const dataDir = join(root, 'd');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'stray'), 'x');
    const err = await refusal(config(defaultArgs(dataDir)));
    assert.match(err.message, /is not empty and is not a Cairn data dir/);
  });

  it('--initial-cluster-state existing joins with the identity and members a peer reports', async () => {
    const root = tempDir();
    const answer = {
      clusterId: 'cdf818194e3a8c32',
      members: [
        {
          id: '8e9e05c52164694d',
          name: 'old',
          peerURLs: ['http://localhost:2380'],
          clientURLs: ['http://localhost:2379'],
          isLearner: false,
        },
        {
          id: 'fedcba9876543211',
          name: '',
          peerURLs: ['http://127.0.0.1:32390'],
          clientURLs: [],
          isLearner: true,
        },
      ],
    };
    const server = createHttp2Server();
    server.on('stream', (stream, headers) => servePeerApi(stream, headers, () => Promise.resolve(answer)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const peer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const base = [
        '--initial-cluster-state',
        'existing',
        '--initial-cluster',
        `old=${peer},new=http://127.0.0.1:32390`,
      ];
      const m = await start(
        config([
          '--name',
          'new',
          '--initial-advertise-peer-urls',
          'http://127.0.0.1:32390',
          '--data-dir',
          join(root, 'new'),
          ...base,
        ]),
      );
      try {
        assert.equal(m.mode, 'join');
        assert.equal(m.dir.identity.memberId, 0xfedc_ba98_7654_3211n);
        assert.equal(m.dir.identity.clusterId, 0xcdf8_1819_4e3a_8c32n);
        assert.deepEqual(decodeWalMetadata(m.raft.metadata), m.dir.identity);
        assert.equal(m.cluster.members().length, 2);
        assert.equal(m.cluster.member(0xfedc_ba98_7654_3211n)?.isLearner, true);
        assert.equal(m.raft.snapshot.metadata.index, 0, 'a joining member starts with an empty log');
      } finally {
        await close(m);
      }
      // A member the cluster does not list is told to add itself first.
      const err = await refusal(
        config([
          '--name',
          'new',
          '--initial-advertise-peer-urls',
          'http://127.0.0.1:32391',
          '--data-dir',
          join(root, 'other'),
          '--initial-cluster-state',
          'existing',
          '--initial-cluster',
          `old=${peer},new=http://127.0.0.1:32391`,
        ]),
      );
      assert.match(err.message, /is not in the cluster at .*add it first/);
    } finally {
      closePeerApiSessions();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
