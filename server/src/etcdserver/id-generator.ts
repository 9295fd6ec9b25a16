/**
 * Unique request ids for proposals (etcd pkg/idutil): 16 bits of the member id, then a 40-bit
 * millisecond timestamp and an 8-bit counter as the starting suffix, after which the 48-bit suffix
 * counts up. Ids are unique across members (the prefix differs) and across restarts of one member
 * (the time has moved on), with no coordination.
 */
const TS_BITS = 40n;
const COUNT_BITS = 8n;
const SUFFIX_BITS = TS_BITS + COUNT_BITS;
const SUFFIX_MASK = (1n << SUFFIX_BITS) - 1n;

export class IdGenerator {
  private readonly prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << SUFFIX_BITS;
    const ts = BigInt(Math.floor(nowMs)) & ((1n << TS_BITS) - 1n);
    this.suffix = ts << COUNT_BITS;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & SUFFIX_MASK;
    return this.prefix | this.suffix;
  }
}
