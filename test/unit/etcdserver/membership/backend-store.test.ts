import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Backend } from '../../../../server/src/backend/backend.js';
import { newBackendMetrics } from '../../../../server/src/backend/metrics.js';
import {
  decodeMember,
  encodeMember,
  loadMembership,
  saveMember,
  saveRemoved,
} from '../../../../server/src/etcdserver/membership/backend-store.js';
import type { Member } from '../../../../server/src/etcdserver/membership/member.js';
import { newLogger } from '../../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function openBackend(dir?: string): { backend: Backend; dir: string } {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'cairn-members-'));
  if (dir === undefined) dirs.push(d);
  const backend = Backend.open(
    {
      dir: join(d, 'db'),
      logger: newLogger('error', true),
      metrics: newBackendMetrics(new Registry()),
      onFatal: (err) => {
        throw err;
      },
    },
    dir !== undefined,
  );
  return { backend, dir: d };
}

const big: Member = {
  id: 0xfedc_ba98_7654_3211n,
  name: 'infra1',
  peerURLs: ['http://10.0.0.1:2380', 'http://10.0.0.1:2381'],
  clientURLs: ['http://10.0.0.1:2379'],
  isLearner: false,
};
const learner: Member = {
  id: 0x8e9e_05c5_2164_694dn,
  name: '',
  peerURLs: ['http://localhost:2380'],
  clientURLs: [],
  isLearner: true,
};
const small: Member = {
  id: 0x2943212f5e2cf73n,
  name: 'x',
  peerURLs: ['http://127.0.0.1:23802'],
  clientURLs: [],
  isLearner: false,
};

const byId = (a: Member, b: Member): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('membership backend store', () => {
  it('encodeMember/decodeMember round-trip, with ids above 2^53 exact', () => {
    for (const m of [big, learner, small, { ...big, id: 2n ** 64n - 1n }]) {
      assert.ok(m.id > 2n ** 53n);
      const back = decodeMember(encodeMember(m));
      assert.deepEqual(back, m);
      assert.equal(back.id, m.id);
    }
  });

  it('the record is JSON with the id in hex, and extra fields ride along without changing the member', () => {
    const bytes = encodeMember(big, { context: 'x' });
    const json = JSON.parse(bytes.toString()) as Record<string, unknown>;
    assert.equal(json['id'], 'fedcba9876543211');
    assert.equal(json['context'], 'x');
    assert.deepEqual(decodeMember(bytes), big);
  });

  it('decodeMember fills missing optional fields with defaults', () => {
    const m = decodeMember(Buffer.from(JSON.stringify({ id: 'ff', peerURLs: ['http://a:1'] })));
    assert.deepEqual(m, { id: 255n, name: '', peerURLs: ['http://a:1'], clientURLs: [], isLearner: false });
  });

  it('decodeMember of garbage throws a corrupt-record error', () => {
    const cases = [
      Buffer.from('not json'),
      Buffer.from([0xff, 0x00, 0x13]),
      Buffer.from('{}'),
      Buffer.from('null'),
      Buffer.from(JSON.stringify({ id: 5, peerURLs: [] })),
      Buffer.from(JSON.stringify({ id: 'ab', peerURLs: 'http://a:1' })),
    ];
    for (const c of cases) {
      assert.throws(() => decodeMember(c), /membership: corrupt member record/, c.toString());
    }
  });

  it('saveMember, saveRemoved and loadMembership on a real backend, across a reopen', async () => {
    const { backend, dir } = openBackend();
    try {
      assert.deepEqual(loadMembership(backend), { members: [], removed: [] });
      saveMember(backend, big);
      saveMember(backend, learner);
      saveMember(backend, small);
      await backend.commit();
      let loaded = loadMembership(backend);
      assert.deepEqual([...loaded.members].sort(byId), [big, learner, small].sort(byId));
      assert.deepEqual(loaded.removed, []);

      // An update (a learner promoted, a name published) overwrites the record.
      const promoted = {
        ...learner,
        isLearner: false,
        name: 'default',
        clientURLs: ['http://localhost:2379'],
      };
      saveMember(backend, promoted);
      saveRemoved(backend, small.id);
      await backend.commit();
      loaded = loadMembership(backend);
      assert.deepEqual([...loaded.members].sort(byId), [big, promoted].sort(byId));
      assert.deepEqual(loaded.removed, [small.id]);
    } finally {
      await backend.close();
    }

    const reopened = openBackend(dir);
    try {
      const loaded = loadMembership(reopened.backend);
      assert.equal(loaded.members.length, 2);
      assert.ok(loaded.members.some((m) => m.id === big.id && m.name === 'infra1'));
      assert.ok(loaded.members.some((m) => m.id === learner.id && !m.isLearner && m.name === 'default'));
      assert.deepEqual(loaded.removed, [small.id]);
    } finally {
      await reopened.backend.close();
    }
  });

  it('removing a member that was never saved still records it as removed', async () => {
    const { backend } = openBackend();
    try {
      saveRemoved(backend, 2n ** 63n + 1n);
      await backend.commit();
      assert.deepEqual(loadMembership(backend), { members: [], removed: [2n ** 63n + 1n] });
    } finally {
      await backend.close();
    }
  });

  it('loadMembership throws on a corrupt record in the database', async () => {
    const { backend } = openBackend();
    try {
      saveMember(backend, big);
      backend.put('members', Buffer.from('abc'), Buffer.from('garbage'));
      await backend.commit();
      assert.throws(() => loadMembership(backend), /corrupt member record/);
    } finally {
      await backend.close();
    }
  });
});
