import type { Prng } from '../../server/src/raft/rng.js';

/**
 * Faults the simulator injects on its OWN side to prove that the checkers can catch a broken system
 * (the mutation self-check). None is on in a normal run.
 * - `disk-forgets-on-restart`: a restarted member comes back with its durable log rolled back to what it
 *   was at its previous start: fsync'd, acknowledged writes (entries, votes) are lost. (The core itself
 *   notices this one: a leader's commit index beyond the follower's log trips its assertion.)
 * - `disk-corrupts-entry`: a restarted member reads back its last committed entry with one byte more
 *   (a torn write that passed the CRC): the entry it re-applies differs from the committed one.
 * - `network-never-heals`: the liveness phase cuts every link instead of healing the network, so no
 *   leader can be elected: the liveness checker must report it.
 * - `misdeliver-votes`: the network also hands every granted vote to every other member, as if it came
 *   from the voter, so two candidates of one term can both win.
 */
export type Mutation =
  'none' | 'disk-forgets-on-restart' | 'disk-corrupts-entry' | 'misdeliver-votes' | 'network-never-heals';
export const MUTATIONS: readonly Mutation[] = [
  'disk-forgets-on-restart',
  'disk-corrupts-entry',
  'misdeliver-votes',
  'network-never-heals',
];

/**
 * Everything that varies between seeds (swarm testing: each seed draws its own mix of sizes, limits and
 * fault rates, so that rare combinations get explored without a hand-written scenario each).
 *
 * Units: times are simulator time units; one tick is about `tickIntervalTime` of them.
 */
export interface SimOptions {
  seed: number;
  /** Events processed in the safety (fault) phase. */
  steps: number;
  voters: number;
  learners: number;
  electionTicks: number;
  heartbeatTicks: number;
  maxSizePerMsgBytes: number;
  maxInflightMsgs: number;
  /** Leader's uncommitted tail, at most (proposals beyond are dropped); 0 = unlimited. */
  maxUncommittedEntriesBytes: number;
  /** Payload bytes in flight per follower; 0 = unlimited (else >= maxSizePerMsgBytes). */
  maxInflightBytes: number;
  /** Committed entry bytes per Ready (small values split applying over many Readies); 0 = default. */
  maxCommittedSizePerReadyBytes: number;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding: boolean;
  checkQuorum: boolean;
  preVote: boolean;
  tickIntervalTime: number;
  /** Each tick lands within ± this of its interval (members' clocks are not in lockstep). */
  tickJitterTime: number;
  /** Clock skew: each member's tick interval is scaled by a factor in [1 - skew, 1 + skew]. */
  tickSkew: number;
  messageDelayMinTime: number;
  messageDelayMaxTime: number;
  /** Probability that a message is delayed far beyond the range (reordering past later messages). */
  messageReorderProbability: number;
  messageDropProbability: number;
  messageDuplicateProbability: number;
  fsyncDelayMinTime: number;
  fsyncDelayMaxTime: number;
  /** Time between two workload decisions (proposals, reads, faults, conf changes). */
  workloadIntervalTime: number;
  proposalPayloadBytesMax: number;
  /** Probabilities per workload decision. */
  readProbability: number;
  crashProbability: number;
  restartProbability: number;
  partitionProbability: number;
  /** A partition lasts a random time up to this many election timeouts, then heals. */
  partitionElectionTimeoutsMax: number;
  confChangeProbability: number;
  transferLeaderProbability: number;
  /** A member stops (GC pause, SIGSTOP) for up to a few election timeouts, then resumes where it was. */
  pauseProbability: number;
  /** The application asks a member to campaign (etcd's server does on start-up with one member). */
  campaignProbability: number;
  /** A member snapshots once it has applied this many entries past its last snapshot. */
  snapshotEveryEntries: number;
  /** Entries kept in the log below a snapshot for slow followers (etcd: SnapshotCatchUpEntries). */
  compactKeepEntries: number;
  /** Simulated time allowed for the liveness phase to converge. */
  livenessTimeMax: number;
  /** Proposals submitted after healing that must all be applied everywhere. */
  livenessProposals: number;
  mutation: Mutation;
}

export interface OptionOverrides {
  steps?: number;
  members?: number;
  mutation?: Mutation;
}

function between(rng: Prng, lo: number, hi: number): number {
  return lo + rng.intn(hi - lo + 1);
}

/** Draws one seed's options from its PRNG. The draw order is part of the replay contract. */
export function swarmOptions(seed: number, rng: Prng, over: OptionOverrides): SimOptions {
  const voters = over.members ?? (rng.chance(0.6) ? 3 : 5);
  const learners = rng.chance(0.5) ? 0 : between(rng, 1, 2);
  const electionTicks = between(rng, 4, 15);
  const heartbeatTicks = between(rng, 1, Math.min(3, electionTicks - 1));
  const tickIntervalTime = 100;
  const messageDelayMinTime = between(rng, 1, 20);
  // Raft needs broadcast time << election timeout (thesis §3.4): a message delay near the election
  // timeout makes every leader lose its followers before its heartbeats arrive, and nothing commits.
  const messageDelayMaxTime = Math.min(
    messageDelayMinTime + between(rng, 0, rng.chance(0.2) ? 400 : 120),
    Math.floor((electionTicks * tickIntervalTime) / 4),
  );
  const fsyncDelayMinTime = between(rng, 1, 10);
  const faulty = rng.chance(0.85);
  const maxSizePerMsgBytes = rng.chance(0.5) ? between(rng, 64, 512) : 1024 * 1024;
  const p = (max: number): number => (faulty ? rng.float() * max : 0);
  return {
    seed,
    steps: over.steps ?? 3000,
    voters,
    learners,
    electionTicks,
    heartbeatTicks,
    maxSizePerMsgBytes,
    maxInflightMsgs: rng.chance(0.3) ? between(rng, 1, 4) : between(rng, 16, 256),
    maxUncommittedEntriesBytes: rng.chance(0.3) ? between(rng, 300, 5000) : 0,
    maxInflightBytes: rng.chance(0.3) ? maxSizePerMsgBytes * between(rng, 1, 4) : 0,
    maxCommittedSizePerReadyBytes: rng.chance(0.3) ? between(rng, 1, 400) : 0,
    disableProposalForwarding: rng.chance(0.1),
    checkQuorum: rng.chance(0.75),
    preVote: rng.chance(0.75),
    tickIntervalTime,
    tickJitterTime: between(rng, 0, 20),
    messageDelayMinTime,
    messageDelayMaxTime,
    messageReorderProbability: p(0.05),
    messageDropProbability: p(0.1),
    messageDuplicateProbability: p(0.05),
    fsyncDelayMinTime,
    fsyncDelayMaxTime: fsyncDelayMinTime + between(rng, 0, 60),
    workloadIntervalTime: between(rng, 10, 60),
    proposalPayloadBytesMax: between(rng, 0, 200),
    readProbability: 0.1 + rng.float() * 0.3,
    crashProbability: p(0.02),
    restartProbability: 0.05 + rng.float() * 0.1,
    partitionProbability: p(0.02),
    partitionElectionTimeoutsMax: between(rng, 1, 10),
    confChangeProbability: rng.chance(0.7) ? rng.float() * 0.05 : 0,
    transferLeaderProbability: p(0.01),
    snapshotEveryEntries: between(rng, 3, 60),
    compactKeepEntries: between(rng, 0, 20),
    livenessTimeMax: electionTicks * tickIntervalTime * 60,
    livenessProposals: between(rng, 3, 10),
    tickSkew: rng.chance(0.5) ? rng.float() * 0.3 : 0,
    pauseProbability: p(0.01),
    campaignProbability: p(0.005),
    mutation: over.mutation ?? 'none',
  };
}

/** A one-line rendering of the options, printed with SEED= so a failure report says what was drawn. */
export function describeOptions(o: SimOptions): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  return (
    `voters=${o.voters} learners=${o.learners} election=${o.electionTicks} heartbeat=${o.heartbeatTicks} ` +
    `maxMsg=${o.maxSizePerMsgBytes} inflight=${o.maxInflightMsgs}/${o.maxInflightBytes}B ` +
    `uncommitted=${o.maxUncommittedEntriesBytes} committedPerReady=${o.maxCommittedSizePerReadyBytes} ` +
    `forwarding=${!o.disableProposalForwarding} ` +
    `checkQuorum=${o.checkQuorum} ` +
    `preVote=${o.preVote} delay=${o.messageDelayMinTime}..${o.messageDelayMaxTime} ` +
    `drop=${pct(o.messageDropProbability)} dup=${pct(o.messageDuplicateProbability)} ` +
    `reorder=${pct(o.messageReorderProbability)} crash=${pct(o.crashProbability)} ` +
    `partition=${pct(o.partitionProbability)} pause=${pct(o.pauseProbability)} ` +
    `skew=${pct(o.tickSkew)} confChange=${pct(o.confChangeProbability)} ` +
    `snapshotEvery=${o.snapshotEveryEntries} keep=${o.compactKeepEntries}` +
    (o.mutation === 'none' ? '' : ` MUTATION=${o.mutation}`)
  );
}
