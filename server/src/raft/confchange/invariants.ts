import { assert } from '../../util/assert.js';
import type { Progress } from '../tracker/progress.js';
import type { TrackerConfig } from '../tracker/tracker.js';

/**
 * The invariants tying a configuration to its progress map (etcd-io/raft confchange checkInvariants).
 * The changer checks them on its input and on every result, so a violation is a program bug (a broken
 * changer or a caller that edited the tracker by hand), never a bad request: it asserts.
 *
 * The empty config is allowed on purpose: bootstrap and restore start from it.
 */
export function checkInvariants(cfg: TrackerConfig, progress: ReadonlyMap<bigint, Progress>): void {
  const incoming = cfg.voters.incoming.voters;
  const outgoing = cfg.voters.outgoing.voters;

  // Progress exists exactly for the members: every voter (either half), learner and staged learner.
  const members = new Set<bigint>([...incoming, ...outgoing, ...cfg.learners, ...cfg.learnersNext]);
  for (const id of members) assert(progress.has(id), `no progress for ${id}`);
  for (const id of progress.keys()) assert(members.has(id), `progress for ${id}, which is not a member`);

  // A staged learner was staged because it is still a voter of the outgoing config (thesis §4.3: it
  // must keep voting there until C_new alone decides); so it is not marked as a learner yet.
  for (const id of cfg.learnersNext) {
    assert(outgoing.has(id), `${id} is in learnersNext, but not in the outgoing voters`);
    assert(
      progress.get(id)?.isLearner === false,
      `${id} is in learnersNext, but is already marked as learner`,
    );
    assert(!cfg.learners.has(id), `${id} is in learnersNext and in learners`);
  }

  // Learners and voters never intersect: a node either counts in quorums or it does not.
  for (const id of cfg.learners) {
    assert(!outgoing.has(id), `${id} is in learners and in the outgoing voters`);
    assert(!incoming.has(id), `${id} is in learners and in the incoming voters`);
    assert(progress.get(id)?.isLearner === true, `${id} is in learners, but is not marked as learner`);
  }
  for (const id of cfg.voters.ids()) {
    if (cfg.learnersNext.has(id)) continue; // still a voter of the outgoing half, checked above
    assert(progress.get(id)?.isLearner === false, `${id} is a voter, but is marked as learner`);
  }

  if (!cfg.voters.isJoint) {
    assert(cfg.learnersNext.size === 0, 'learnersNext must be empty when not joint');
    assert(!cfg.autoLeave, 'autoLeave must be false when not joint');
  }
}
