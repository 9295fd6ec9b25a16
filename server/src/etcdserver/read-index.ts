import { EtcdError } from '../errors.js';
import type { ReadState } from '../raft/ready.js';

export interface ReadIndexDeps {
  /** Asks Raft for a read index; the answer arrives as a ReadState with this context. */
  readIndex(ctx: Uint8Array): void;
  /** Resolves once the applied (and durable) index reaches `index`. */
  waitApplied(index: number): Promise<void>;
  /** Bound on one read (etcd: the request timeout). */
  timeoutMs: number;
  /** How often an unanswered read index request is asked again (etcd: 500 ms). */
  retryMs: number;
}

interface Round {
  readonly ctx: Uint8Array;
  readonly key: string;
  readonly waiters: { resolve: () => void; reject: (e: Error) => void }[];
  retry: NodeJS.Timeout | undefined;
  deadline: NodeJS.Timeout | undefined;
}

/**
 * Linearizable reads (etcd's linearizableReadLoop): every read that arrives while a read index request
 * is in flight joins the next round, so N concurrent reads cost one heartbeat round trip, not N. A
 * round ends when Raft answers with its read index and the applied index has reached it; then each of
 * its reads may be served from local state. A leader change fails the round in flight ("leader
 * changed"), as etcd does; no answer within the timeout fails it with "request timed out".
 */
export class ReadIndexer {
  private next: Round['waiters'] = [];
  private inflight: Round | undefined;
  private seq = 0n;
  private stopped = false;

  constructor(private readonly deps: ReadIndexDeps) {}

  /** Resolves when a read issued now may be served locally. */
  read(): Promise<void> {
    if (this.stopped) return Promise.reject(new EtcdError('ErrStopped'));
    return new Promise<void>((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (this.inflight === undefined) this.startRound();
    });
  }

  /** Raft's answers; only the round in flight is expected, stale answers are ignored. */
  onReadStates(states: readonly ReadState[]): void {
    const round = this.inflight;
    if (round === undefined) return;
    for (const rs of states) {
      if (Buffer.from(rs.requestCtx).toString('hex') !== round.key) continue;
      // Answered: stop asking again, but keep the deadline, which also bounds the wait for applying.
      clearTimeout(round.retry);
      round.retry = undefined;
      void this.deps.waitApplied(rs.index).then(
        () => this.finish(round, undefined),
        (err: Error) => this.finish(round, err),
      );
      return;
    }
  }

  /**
   * A leader change fails the round in flight: its read index may come from the old leader's term. A
   * first leader (there was none) cannot have answered, so the round is simply asked again.
   */
  onLeaderChange(hadLeader: boolean): void {
    const round = this.inflight;
    if (round === undefined) return;
    if (hadLeader) {
      this.finish(round, new EtcdError('ErrLeaderChanged'));
      return;
    }
    clearTimeout(round.retry);
    this.ask(round);
  }

  private ask(round: Round): void {
    if (this.inflight !== round) return;
    this.deps.readIndex(round.ctx);
    round.retry = setTimeout(() => this.ask(round), this.deps.retryMs);
  }

  stop(): void {
    this.stopped = true;
    const err = new EtcdError('ErrStopped');
    if (this.inflight !== undefined) this.finish(this.inflight, err);
    for (const w of this.next.splice(0)) w.reject(err);
  }

  private startRound(): void {
    if (this.next.length === 0 || this.stopped) return;
    const ctx = Buffer.alloc(8);
    ctx.writeBigUInt64BE(++this.seq);
    const round: Round = {
      ctx,
      key: ctx.toString('hex'),
      waiters: this.next,
      retry: undefined,
      deadline: undefined,
    };
    this.next = [];
    this.inflight = round;
    round.deadline = setTimeout(() => this.finish(round, new EtcdError('ErrTimeout')), this.deps.timeoutMs);
    this.ask(round);
  }

  private clearTimers(round: Round): void {
    clearTimeout(round.retry);
    clearTimeout(round.deadline);
    round.retry = undefined;
    round.deadline = undefined;
  }

  private finish(round: Round, err: Error | undefined): void {
    if (this.inflight !== round) return;
    this.clearTimers(round);
    this.inflight = undefined;
    for (const w of round.waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
    this.startRound();
  }
}
