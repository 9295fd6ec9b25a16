// defrag --safe's decisions without a server: the health gate, the order (followers in member-list
// order, the leader last) and whether NOSPACE alarms may be disarmed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkHealth,
  isNoSpaceAlarm,
  type MemberStatus,
  type Observed,
} from '../../../../server/src/ctl/defrag-gate.js';
import { defragOrder } from '../../../../server/src/ctl/defrag-order.js';
import { decideNoSpaceDisarm } from '../../../../server/src/ctl/nospace-disarm.js';
import { AlarmType } from '../../../../server/src/proto/gen/etcdserverpb/rpc.js';

const LEADER = 0xaan;

function member(n: number, over: Partial<MemberStatus> = {}): Observed {
  return {
    name: `kv-${n}`,
    endpoint: `http://127.0.0.1:${2379 + n}`,
    status: {
      memberId: 0xa0n + BigInt(n),
      leader: LEADER,
      raftAppliedIndex: 5000,
      dbSize: 1000,
      dbSizeInUse: 500,
      dbSizeQuota: 2000,
      isLearner: false,
      errors: [],
      ...over,
    },
  };
}

/** A 3-member cluster whose leader is kv-10 (id 0xaa). */
const healthy = (): Observed[] => [member(0), member(10), member(2)];

describe('health gate', () => {
  it('healthy: every member answered, one leader, no lag, no alarm', () => {
    assert.deepEqual(checkHealth(healthy(), 1000), { healthy: true, leader: LEADER });
  });

  it('a member that does not answer Status fails it', () => {
    const ms = healthy();
    ms[2] = {
      name: 'kv-2',
      endpoint: 'http://127.0.0.1:2381',
      status: undefined,
      failure: 'context deadline exceeded',
    };
    assert.deepEqual(checkHealth(ms, 1000), {
      healthy: false,
      reason: 'member kv-2 (http://127.0.0.1:2381) did not answer Status: context deadline exceeded',
      cause: 'no-status',
    });
  });

  it('no leader fails it', () => {
    const ms = [member(0), member(10), member(2, { leader: 0n })];
    assert.deepEqual(checkHealth(ms, 1000), {
      healthy: false,
      reason: 'member kv-2 (http://127.0.0.1:2381) has no leader',
      cause: 'no-leader',
    });
  });

  it('members that disagree on the leader fail it', () => {
    const ms = [member(0), member(10), member(2, { leader: 0xa2n })];
    const v = checkHealth(ms, 1000);
    assert.equal(v.healthy, false);
    assert.equal(!v.healthy ? v.cause : '', 'leaders-disagree');
    assert.match(
      !v.healthy ? v.reason : '',
      /^members disagree on the leader \(kv-0 .*: aa, .*kv-2 .*: a2\)$/,
    );
  });

  it('lag: up to --max-lag behind the leader passes, one more fails', () => {
    assert.equal(
      checkHealth([member(0, { raftAppliedIndex: 4000 }), member(10), member(2)], 1000).healthy,
      true,
    );
    assert.deepEqual(checkHealth([member(0, { raftAppliedIndex: 3999 }), member(10), member(2)], 1000), {
      healthy: false,
      reason:
        'member kv-0 (http://127.0.0.1:2379) trails the leader by 1001 applied entries (--max-lag 1000)',
      cause: 'lag',
    });
    assert.equal(
      checkHealth([member(0, { raftAppliedIndex: 4999 }), member(10), member(2)], 0).healthy,
      false,
    );
  });

  it('lag is measured against the leader, not the most advanced follower', () => {
    // A follower ahead of the leader's applied index (it applies what the leader committed first) is fine.
    const ms = [member(0, { raftAppliedIndex: 9000 }), member(10), member(2)];
    assert.equal(checkHealth(ms, 1000).healthy, true);
  });

  it('without the leader among the members, lag is measured against the most advanced one', () => {
    const v = checkHealth([member(0, { raftAppliedIndex: 9000 }), member(2)], 1000);
    assert.deepEqual(v, {
      healthy: false,
      reason:
        'member kv-2 (http://127.0.0.1:2381) trails the most advanced member by 4000 applied entries (--max-lag 1000)',
      cause: 'lag',
    });
  });

  it('a NOSPACE alarm does not make a member unhealthy; CORRUPT does', () => {
    const nospace = ['memberID:170 alarm:NOSPACE '];
    assert.equal(
      checkHealth(
        healthy().map((m) => ({ ...m, status: { ...m.status!, errors: nospace } })),
        1000,
      ).healthy,
      true,
    );
    const corrupt = ['memberID:170 alarm:NOSPACE ', 'memberID:162 alarm:CORRUPT '];
    assert.deepEqual(checkHealth([member(0, { errors: corrupt }), member(10), member(2)], 1000), {
      healthy: false,
      reason: 'member kv-0 (http://127.0.0.1:2379) reports memberID:162 alarm:CORRUPT',
      cause: 'alarm',
    });
    assert.equal(isNoSpaceAlarm('memberID:1 alarm:NOSPACE '), true);
    assert.equal(isNoSpaceAlarm('memberID:1 alarm:CORRUPT '), false);
  });

  it('no member at all is not healthy', () => {
    assert.deepEqual(checkHealth([], 1000), {
      healthy: false,
      reason: 'no member to defragment',
      cause: 'no-member',
    });
  });
});

describe('defrag order', () => {
  const ids = (ms: { memberId: bigint }[]): string[] => ms.map((m) => m.memberId.toString(16));
  const list = [0xa3n, 0xa1n, 0xaan, 0xa2n].map((memberId) => ({ memberId }));

  it('followers in member-list order, the leader last', () => {
    assert.deepEqual(ids(defragOrder(list, 0xaan)), ['a3', 'a1', 'a2', 'aa']);
    assert.deepEqual(ids(defragOrder(list, 0xa3n)), ['a1', 'aa', 'a2', 'a3']);
  });

  it('a leader not among the members (--endpoints of followers only): member-list order', () => {
    assert.deepEqual(ids(defragOrder(list, 0xffn)), ['a3', 'a1', 'aa', 'a2']);
  });
});

describe('NOSPACE disarm decision', () => {
  const nospace = [
    { memberID: 1n, alarm: AlarmType.NOSPACE },
    { memberID: 2n, alarm: AlarmType.NOSPACE },
  ];
  const below = [
    { name: 'kv-0', dbSize: 100, quota: 1000 },
    { name: 'kv-1', dbSize: 999, quota: 1000 },
  ];

  it('every member below its quota: each NOSPACE alarm is disarmed', () => {
    assert.deepEqual(decideNoSpaceDisarm(nospace, below), { disarm: nospace });
  });

  it('a member at or over its quota: nothing is disarmed', () => {
    const full = [...below, { name: 'kv-2', dbSize: 1000, quota: 1000 }];
    assert.deepEqual(decideNoSpaceDisarm(nospace, full), {
      disarm: [],
      reason: 'member kv-2 is still at 1000 bytes, its quota is 1000',
    });
  });

  it('no NOSPACE alarm: nothing to disarm; other alarms are never touched', () => {
    assert.deepEqual(decideNoSpaceDisarm([], below), { disarm: [], reason: 'no NOSPACE alarm is raised' });
    const mixed = [{ memberID: 3n, alarm: AlarmType.CORRUPT }, ...nospace];
    assert.deepEqual(decideNoSpaceDisarm(mixed, below), { disarm: nospace });
    assert.deepEqual(decideNoSpaceDisarm([{ memberID: 3n, alarm: AlarmType.CORRUPT }], below), {
      disarm: [],
      reason: 'no NOSPACE alarm is raised',
    });
  });
});
