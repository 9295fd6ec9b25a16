import type { Logger } from './logger.js';
import type { Rng } from './rng.js';
import type { Storage } from './storage.js';

/**
 * How one Raft member behaves. Times are in ticks: the application calls tick() at a fixed interval
 * (etcd: --heartbeat-interval, 100 ms by default) and the core counts them.
 */
export interface RaftConfig {
  /** This member's id; never 0. */
  id: bigint;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The actual timeout is randomized
   * in [electionTicks, 2*electionTicks) to make split votes unlikely (thesis §3.4). etcd: 10.
   */
  electionTicks: number;
  /** Ticks between leader heartbeats. Must be less than electionTicks. etcd: 1. */
  heartbeatTicks: number;
  storage: Storage;
  /**
   * The last applied index when restarting, so that entries are not handed out for applying twice.
   * Leave 0 for a fresh member.
   */
  applied?: number;
  /** Upper bound of entry bytes in one MsgApp (at least one entry is always sent). etcd: 1 MiB. */
  maxSizePerMsgBytes: number;
  /** Upper bound of committed entry bytes handed out in one Ready. 0 = maxSizePerMsgBytes. */
  maxCommittedSizePerReadyBytes?: number;
  /**
   * Upper bound of payload bytes in the leader's uncommitted log tail; proposals beyond it are
   * dropped with ErrProposalDropped. 0 = unlimited.
   */
  maxUncommittedEntriesBytes?: number;
  /** Appends in flight to one follower in Replicate state. etcd: 512. */
  maxInflightMsgs: number;
  /** Payload bytes in flight to one follower; 0 = unlimited. Must be >= maxSizePerMsgBytes if set. */
  maxInflightBytes?: number;
  /** A leader steps down when it has not heard from a quorum within an election timeout (§6.2). */
  checkQuorum: boolean;
  /** A pre-vote round before every election so a partitioned member cannot disrupt (§9.6). */
  preVote: boolean;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** Randomness for election timeouts; seeded so a run can be replayed. */
  rng: Rng;
  logger?: Logger;
}

export interface ValidatedConfig extends Required<Omit<RaftConfig, 'logger'>> {
  logger: Logger | undefined;
}

/** Checks the limits once, with readable messages, and fills in defaults. */
export function validateConfig(c: RaftConfig): ValidatedConfig {
  const fail = (msg: string): never => {
    throw new Error(`raft config: ${msg}`);
  };
  if (c.id === 0n) fail('cannot use none as id');
  const positive = (name: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v <= 0) fail(`${name} must be a positive integer, got ${v}`);
  };
  const nonNegative = (name: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v < 0) fail(`${name} must be a non-negative integer, got ${v}`);
  };
  positive('heartbeatTicks', c.heartbeatTicks);
  positive('electionTicks', c.electionTicks);
  if (c.electionTicks <= c.heartbeatTicks) fail('electionTicks must be greater than heartbeatTicks');
  positive('maxInflightMsgs', c.maxInflightMsgs);
  positive('maxSizePerMsgBytes', c.maxSizePerMsgBytes);
  const maxInflightBytes = c.maxInflightBytes ?? 0;
  nonNegative('maxInflightBytes', maxInflightBytes);
  if (maxInflightBytes > 0 && maxInflightBytes < c.maxSizePerMsgBytes) {
    fail('maxInflightBytes must be >= maxSizePerMsgBytes');
  }
  const maxCommitted = c.maxCommittedSizePerReadyBytes ?? 0;
  nonNegative('maxCommittedSizePerReadyBytes', maxCommitted);
  const maxUncommitted = c.maxUncommittedEntriesBytes ?? 0;
  nonNegative('maxUncommittedEntriesBytes', maxUncommitted);
  const applied = c.applied ?? 0;
  nonNegative('applied', applied);
  return {
    id: c.id,
    electionTicks: c.electionTicks,
    heartbeatTicks: c.heartbeatTicks,
    storage: c.storage,
    applied,
    maxSizePerMsgBytes: c.maxSizePerMsgBytes,
    maxCommittedSizePerReadyBytes: maxCommitted === 0 ? c.maxSizePerMsgBytes : maxCommitted,
    maxUncommittedEntriesBytes: maxUncommitted === 0 ? Number.MAX_SAFE_INTEGER : maxUncommitted,
    maxInflightMsgs: c.maxInflightMsgs,
    maxInflightBytes,
    checkQuorum: c.checkQuorum,
    preVote: c.preVote,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    rng: c.rng,
    logger: c.logger,
  };
}
