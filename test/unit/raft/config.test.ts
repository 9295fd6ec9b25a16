import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig, type RaftConfig } from '../../../server/src/raft/config.js';
import type { Logger } from '../../../server/src/raft/logger.js';
import { MemoryStorage } from '../../../server/src/raft/memory-storage.js';
import { Raft } from '../../../server/src/raft/raft.js';
import { Prng } from '../../../server/src/raft/rng.js';
import { storageWithPeers } from './test-raft.js';

/** A valid config with etcd's production numbers; each test breaks one thing. */
function base(): RaftConfig {
  return {
    id: 1n,
    electionTicks: 10,
    heartbeatTicks: 1,
    storage: new MemoryStorage(),
    maxSizePerMsgBytes: 1024 * 1024,
    maxInflightMsgs: 512,
    checkQuorum: true,
    preVote: true,
    rng: new Prng(1),
  };
}

function rejects(change: Partial<RaftConfig>, message: string): void {
  assert.throws(
    () => validateConfig({ ...base(), ...change }),
    (e: unknown) => e instanceof Error && e.message === `raft config: ${message}`,
    `${JSON.stringify(change, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} should fail with "${message}"`,
  );
}

describe('validateConfig', () => {
  it('refuses id 0 (it means "no node")', () => {
    rejects({ id: 0n }, 'cannot use none as id');
  });

  it('requires electionTicks > heartbeatTicks', () => {
    rejects({ electionTicks: 1, heartbeatTicks: 1 }, 'electionTicks must be greater than heartbeatTicks');
    rejects({ electionTicks: 5, heartbeatTicks: 10 }, 'electionTicks must be greater than heartbeatTicks');
    assert.doesNotThrow(() => validateConfig({ ...base(), electionTicks: 2, heartbeatTicks: 1 }));
  });

  it('requires positive integer ticks and limits', () => {
    const positive = ['heartbeatTicks', 'electionTicks', 'maxInflightMsgs', 'maxSizePerMsgBytes'] as const;
    for (const name of positive) {
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        // Keep electionTicks > heartbeatTicks when the other one is broken, so only `name` is at fault.
        const change: Partial<RaftConfig> = { [name]: bad };
        if (name === 'heartbeatTicks') change.electionTicks = 10;
        rejects(change, `${name} must be a positive integer, got ${bad}`);
      }
    }
  });

  it('requires non-negative integers for the optional limits and applied', () => {
    const optional = [
      'maxInflightBytes',
      'maxCommittedSizePerReadyBytes',
      'maxUncommittedEntriesBytes',
      'applied',
    ] as const;
    for (const name of optional) {
      for (const bad of [-1, 0.5, Number.NaN]) {
        rejects({ [name]: bad }, `${name} must be a non-negative integer, got ${bad}`);
      }
      assert.doesNotThrow(() => validateConfig({ ...base(), [name]: 0 }), name);
    }
  });

  it('requires maxInflightBytes >= maxSizePerMsgBytes when set', () => {
    rejects(
      { maxSizePerMsgBytes: 1000, maxInflightBytes: 999 },
      'maxInflightBytes must be >= maxSizePerMsgBytes',
    );
    rejects(
      { maxSizePerMsgBytes: 1000, maxInflightBytes: 1 },
      'maxInflightBytes must be >= maxSizePerMsgBytes',
    );
    assert.equal(
      validateConfig({ ...base(), maxSizePerMsgBytes: 1000, maxInflightBytes: 1000 }).maxInflightBytes,
      1000,
    );
    // 0 means no byte limit, whatever the message size.
    assert.equal(
      validateConfig({ ...base(), maxSizePerMsgBytes: 1000, maxInflightBytes: 0 }).maxInflightBytes,
      0,
    );
  });

  it('fills in the defaults of the optional fields', () => {
    const c = base();
    const v = validateConfig(c);
    assert.equal(v.applied, 0);
    // 0 / absent per-Ready limit: the message size limit (etcd MaxCommittedSizePerReady).
    assert.equal(v.maxCommittedSizePerReadyBytes, c.maxSizePerMsgBytes);
    // 0 / absent uncommitted limit: unlimited.
    assert.equal(v.maxUncommittedEntriesBytes, Number.MAX_SAFE_INTEGER);
    assert.equal(v.maxInflightBytes, 0);
    assert.equal(v.disableProposalForwarding, false);
    assert.equal(v.logger, undefined);
    // The given fields pass through unchanged.
    assert.equal(v.id, c.id);
    assert.equal(v.electionTicks, 10);
    assert.equal(v.heartbeatTicks, 1);
    assert.equal(v.storage, c.storage);
    assert.equal(v.rng, c.rng);
    assert.equal(v.maxSizePerMsgBytes, c.maxSizePerMsgBytes);
    assert.equal(v.maxInflightMsgs, 512);
    assert.equal(v.checkQuorum, true);
    assert.equal(v.preVote, true);

    const explicitZero = validateConfig({
      ...c,
      maxCommittedSizePerReadyBytes: 0,
      maxUncommittedEntriesBytes: 0,
    });
    assert.equal(explicitZero.maxCommittedSizePerReadyBytes, c.maxSizePerMsgBytes);
    assert.equal(explicitZero.maxUncommittedEntriesBytes, Number.MAX_SAFE_INTEGER);
  });

  it('keeps explicitly set optional fields', () => {
    const logger: Logger = { info: () => {}, warn: () => {} };
    const v = validateConfig({
      ...base(),
      applied: 7,
      maxCommittedSizePerReadyBytes: 4096,
      maxUncommittedEntriesBytes: 1 << 30,
      maxInflightBytes: 32 * 1024 * 1024,
      disableProposalForwarding: true,
      logger,
    });
    assert.equal(v.applied, 7);
    assert.equal(v.maxCommittedSizePerReadyBytes, 4096);
    assert.equal(v.maxUncommittedEntriesBytes, 1 << 30);
    assert.equal(v.maxInflightBytes, 32 * 1024 * 1024);
    assert.equal(v.disableProposalForwarding, true);
    assert.equal(v.logger, logger);
  });

  it('does not modify the config it is given', () => {
    const c = base();
    const copy = { ...c };
    validateConfig(c);
    assert.deepEqual(c, copy);
  });

  it('runs when a Raft member is constructed, so an invalid member never exists', () => {
    assert.throws(
      () => new Raft({ ...base(), storage: storageWithPeers([1n]), electionTicks: 1 }),
      /raft config: electionTicks must be greater than heartbeatTicks/,
    );
    assert.throws(
      () => new Raft({ ...base(), storage: storageWithPeers([1n]), id: 0n }),
      /raft config: cannot use none as id/,
    );
    const r = new Raft({ ...base(), storage: storageWithPeers([1n]) });
    assert.equal(r.electionTimeout, 10);
    assert.equal(r.heartbeatTimeout, 1);
  });
});
