import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EtcdError } from '../../../../server/src/errors.js';
import { RaftCluster } from '../../../../server/src/etcdserver/membership/cluster.js';
import {
  bootstrapCluster,
  InitialClusterError,
  parseInitialCluster,
} from '../../../../server/src/etcdserver/membership/initial-cluster.js';
import {
  canonicalUrl,
  computeClusterId,
  computeMemberId,
  type Member,
} from '../../../../server/src/etcdserver/membership/member.js';

function code(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof EtcdError) return e.code;
    throw e;
  }
  return 'ok';
}

describe('member and cluster ids', () => {
  it("match etcd's: the default single member is 8e9e05c52164694d in cluster cdf818194e3a8c32", () => {
    // The ids every `etcd` started with no flags reports.
    const id = computeMemberId(['http://localhost:2380'], 'etcd-cluster');
    assert.equal(id.toString(16), '8e9e05c52164694d');
    assert.equal(computeClusterId([id]).toString(16), 'cdf818194e3a8c32');
  });

  it('match etcdctl 3.4.23 snapshot restore for a member on 127.0.0.1:23802', () => {
    const id = computeMemberId(['http://127.0.0.1:23802'], 'etcd-cluster');
    assert.equal(id.toString(16), '2943212f5e2cf73');
    assert.equal(computeClusterId([id]).toString(16), '70f9cf875eabdc0b');
  });

  it('do not depend on URL or member order; a runtime add includes the time', () => {
    const a = computeMemberId(['http://b:2380', 'http://a:2380'], 't');
    assert.equal(a, computeMemberId(['http://a:2380', 'http://b:2380'], 't'));
    assert.notEqual(a, computeMemberId(['http://a:2380', 'http://b:2380'], 'other-token'));
    assert.notEqual(a, computeMemberId(['http://a:2380', 'http://b:2380'], 't', 1_700_000_000));
    assert.equal(computeClusterId([1n, 2n, 3n]), computeClusterId([3n, 1n, 2n]));
  });

  it('canonical URLs carry no trailing slash', () => {
    assert.equal(canonicalUrl('http://127.0.0.1:2380/'), 'http://127.0.0.1:2380');
    assert.equal(canonicalUrl(new URL('https://host:1/')), 'https://host:1');
  });
});

describe('--initial-cluster', () => {
  it('parses names and URLs, a repeated name adding URLs', () => {
    const m = parseInitialCluster('a=http://127.0.0.1:2380,b=http://127.0.0.1:2480, b=http://10.0.0.2:2480');
    assert.deepEqual(
      [...m.entries()],
      [
        ['a', ['http://127.0.0.1:2380']],
        ['b', ['http://127.0.0.1:2480', 'http://10.0.0.2:2480']],
      ],
    );
  });

  it('refuses malformed values with a clear message', () => {
    assert.throws(() => parseInitialCluster(''), /--initial-cluster is empty/);
    assert.throws(() => parseInitialCluster('a'), /"a" is not name=url/);
    assert.throws(() => parseInitialCluster('a=notaurl'), /invalid URL "notaurl" for a/);
    assert.throws(() => parseInitialCluster('a=ftp://h:1'), /scheme must be http or https/);
    assert.throws(() => parseInitialCluster('a=http://h'), /has no port/);
  });

  it('bootstraps the same members and cluster id on every member', () => {
    const ic = parseInitialCluster(
      'n1=http://127.0.0.1:2380,n2=http://127.0.0.1:2480,n3=http://127.0.0.1:2580',
    );
    const clusters = ['n1', 'n2', 'n3'].map((name, i) =>
      bootstrapCluster({
        name,
        initialCluster: ic,
        token: 'tok',
        // The server passes its configured URLs through canonicalUrl (no trailing slash).
        advertisePeerUrls: [canonicalUrl(new URL(`http://127.0.0.1:${2380 + 100 * i}/`))],
      }),
    );
    const first = clusters[0];
    assert.ok(first !== undefined);
    for (const c of clusters) {
      assert.equal(c.clusterId, first.clusterId);
      assert.deepEqual(
        c.members.map((m) => m.id),
        first.members.map((m) => m.id),
      );
    }
    assert.deepEqual(
      clusters.map((c) => c.self.name),
      ['n1', 'n2', 'n3'],
    );
    assert.equal(first.members.length, 3);
    assert.ok(first.members.every((m) => !m.isLearner && m.clientURLs.length === 0));
  });

  it('checks what etcd checks', () => {
    const ic = parseInitialCluster('n1=http://127.0.0.1:2380,n2=http://127.0.0.1:2480');
    const base = { initialCluster: ic, token: 't', advertisePeerUrls: ['http://127.0.0.1:2380'] };
    assert.throws(
      () => bootstrapCluster({ ...base, name: 'n9' }),
      /couldn't find local name "n9" in the initial cluster configuration/,
    );
    assert.throws(
      () => bootstrapCluster({ ...base, name: 'n1', advertisePeerUrls: ['http://127.0.0.1:9999'] }),
      /--initial-cluster has n1=http:\/\/127.0.0.1:2380 but missing from --initial-advertise-peer-urls=http:\/\/127.0.0.1:9999/,
    );
    const shared = parseInitialCluster('n1=http://127.0.0.1:2380,n2=http://127.0.0.1:2380');
    assert.throws(
      () => bootstrapCluster({ ...base, name: 'n1', initialCluster: shared }),
      (e: unknown) => e instanceof InitialClusterError && /share the peer URL/.test(e.message),
    );
  });
});

function member(id: bigint, url: string, extra: Partial<Member> = {}): Member {
  return { id, name: `m${id}`, peerURLs: [url], clientURLs: [], isLearner: false, ...extra };
}

describe('RaftCluster', () => {
  const three = (): RaftCluster =>
    new RaftCluster(7n, [member(1n, 'http://h:1'), member(2n, 'http://h:2'), member(3n, 'http://h:3')]);

  it('validates changes with etcd errors', () => {
    const c = three();
    assert.equal(
      code(() => c.validate({ type: 'add', member: member(1n, 'http://h:9') })),
      'ErrMemberExist',
    );
    assert.equal(
      code(() => c.validate({ type: 'add', member: member(4n, 'http://h:2') })),
      'ErrPeerURLExist',
    );
    assert.equal(
      code(() => c.validate({ type: 'remove', id: 9n })),
      'ErrMemberNotFound',
    );
    assert.equal(
      code(() => c.validate({ type: 'promote', id: 2n })),
      'ErrMemberNotLearner',
    );
    assert.equal(
      code(() => c.validate({ type: 'promote', id: 9n })),
      'ErrMemberNotFound',
    );
    assert.equal(
      code(() => c.validate({ type: 'update', id: 1n, peerURLs: ['http://h:3'] })),
      'ErrPeerURLExist',
    );
    assert.equal(
      code(() => c.validate({ type: 'update', id: 1n, peerURLs: ['http://h:1', 'http://h:7'] })),
      'ok',
    );
  });

  it('allows one learner by default, promotes it, and never takes a removed id back', () => {
    const c = three();
    c.apply({ type: 'add', member: member(4n, 'http://h:4', { isLearner: true, name: '' }) });
    assert.equal(
      code(() => c.validate({ type: 'add', member: member(5n, 'http://h:5', { isLearner: true }) })),
      'ErrTooManyLearners',
    );
    assert.deepEqual(
      c.learners().map((m) => m.id),
      [4n],
    );
    c.apply({ type: 'promote', id: 4n });
    assert.deepEqual(
      c.voters().map((m) => m.id),
      [1n, 2n, 3n, 4n],
    );
    c.apply({ type: 'remove', id: 2n });
    assert.ok(c.isRemoved(2n));
    assert.equal(c.member(2n), undefined);
    assert.equal(
      code(() => c.validate({ type: 'add', member: member(2n, 'http://h:22') })),
      'ErrMemberNotFound',
    );
    assert.equal(
      code(() => c.validate({ type: 'remove', id: 2n })),
      'ErrMemberNotFound',
    );
    // The URL of a removed member is free again.
    assert.equal(
      code(() => c.validate({ type: 'add', member: member(6n, 'http://h:2') })),
      'ok',
    );
  });

  it('returns copies: callers cannot change the membership behind its back', () => {
    const c = three();
    const m = c.member(1n);
    assert.ok(m !== undefined);
    m.peerURLs.push('http://evil:1');
    m.isLearner = true;
    assert.deepEqual(c.member(1n)?.peerURLs, ['http://h:1']);
    assert.equal(c.member(1n)?.isLearner, false);
  });

  it("strict reconfiguration: started voters must remain a quorum (etcd's rules)", () => {
    const c = new RaftCluster(7n, [
      member(1n, 'http://h:1'),
      member(2n, 'http://h:2', { name: '' }),
      member(3n, 'http://h:3', { name: '' }),
    ]);
    // 1 of 3 started: adding a 4th voter needs 3 started.
    assert.equal(c.isReadyToAddVoter(), false);
    assert.equal(c.isReadyToPromote(), false);
    // Removing an unstarted member leaves 1 of 2 started: not a quorum.
    assert.equal(c.isReadyToRemoveVoter(3n), false);
    c.setAttributes(2n, 'm2', ['http://h:12']);
    assert.equal(c.isReadyToRemoveVoter(3n), true);
    assert.equal(c.isReadyToAddVoter(), false);
    c.setAttributes(3n, 'm3', []);
    assert.equal(c.isReadyToAddVoter(), true);
    // A single started member may add a second (restoring a cluster from one member).
    const one = new RaftCluster(8n, [member(1n, 'http://h:1')]);
    assert.equal(one.isReadyToAddVoter(), true);
    // …and promote its first learner: the learner counts as started (etcd's IsReadyToPromoteMember), so
    // 2 of the 2 future voters are started.
    assert.equal(one.isReadyToPromote(), true);
    // 2 of 4 voters started, plus the learner: 3 of the 5 future voters, a quorum.
    const four = new RaftCluster(9n, [
      member(1n, 'http://h:1'),
      member(2n, 'http://h:2'),
      member(3n, 'http://h:3', { name: '' }),
      member(4n, 'http://h:4', { name: '' }),
    ]);
    assert.equal(four.isReadyToPromote(), true);
    assert.equal(c.member(2n)?.name, 'm2');
    assert.deepEqual(c.member(2n)?.clientURLs, ['http://h:12']);
  });
});
