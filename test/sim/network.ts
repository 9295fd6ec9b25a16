import type { Prng } from '../../server/src/raft/rng.js';

/**
 * The simulated network's fault state: which directed links are cut, and the per-message fate (drop,
 * duplicate, delay). Delivery itself is scheduled by the simulator on its event queue; a per-message
 * random delay in [min, max] already reorders messages, and `reorder` occasionally holds one back far
 * longer. Partitions may be symmetric (both directions cut) or asymmetric (one direction only, the case
 * that check-quorum and pre-vote exist for, thesis §6.2, §9.6).
 */
export interface NetworkOptions {
  delayMinTime: number;
  delayMaxTime: number;
  dropProbability: number;
  duplicateProbability: number;
  reorderProbability: number;
}

/** How one send turns out: the delays of each copy delivered (empty: dropped). */
export type Fate = { kind: 'cut' } | { kind: 'dropped' } | { kind: 'deliver'; delays: number[] };

export class Network {
  /** Cut links as "from>to". Invariant: only ids of known members. */
  private readonly cut = new Set<string>();
  /** Healed: no random drops or duplicates any more (the liveness phase). */
  healed = false;

  constructor(
    private readonly rng: Prng,
    private readonly o: NetworkOptions,
  ) {}

  isCut(from: bigint, to: bigint): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  get partitioned(): boolean {
    return this.cut.size > 0;
  }

  /** Decides what happens to one message sent now from `from` to `to`. */
  fate(from: bigint, to: bigint): Fate {
    if (this.isCut(from, to)) return { kind: 'cut' };
    if (!this.healed && this.rng.chance(this.o.dropProbability)) return { kind: 'dropped' };
    const copies = !this.healed && this.rng.chance(this.o.duplicateProbability) ? 2 : 1;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) delays.push(this.delay());
    return { kind: 'deliver', delays };
  }

  private delay(): number {
    const { delayMinTime: lo, delayMaxTime: hi } = this.o;
    let d = lo + this.rng.intn(hi - lo + 1);
    if (!this.healed && this.rng.chance(this.o.reorderProbability)) d += hi * (2 + this.rng.intn(8));
    return d;
  }

  /** Cuts every link between the two groups, both ways or (asymmetric) only from `a` to `b`. */
  partition(a: readonly bigint[], b: readonly bigint[], symmetric: boolean): void {
    for (const x of a) {
      for (const y of b) {
        this.cut.add(`${x}>${y}`);
        if (symmetric) this.cut.add(`${y}>${x}`);
      }
    }
  }

  /** Cuts one member off from all others, both ways. */
  isolate(id: bigint, all: readonly bigint[]): void {
    this.partition(
      [id],
      all.filter((x) => x !== id),
      true,
    );
  }

  healPartitions(): void {
    this.cut.clear();
  }

  /** The liveness phase: no partitions and a reliable (still delaying, reordering-free) network. */
  healAll(): void {
    this.cut.clear();
    this.healed = true;
  }

  describeCuts(): string {
    return [...this.cut].sort().join(' ');
  }
}
