/** A lease: its id, its granted TTL, when it expires and the keys attached to it (etcd lease.Lease). */
export class Lease {
  /**
   * Expiry in clock milliseconds. Infinity until the lessor is promoted (etcd's "forever"): a member
   * that is not the primary lessor never expires leases on its own.
   */
  expiryMs = Infinity;
  /** Attached keys, as latin1 strings of their bytes (a Map key must be a primitive). */
  readonly keys = new Set<string>();

  constructor(
    readonly id: bigint,
    /** Granted TTL in seconds, already raised to the minimum. */
    readonly ttlSeconds: number,
  ) {}

  /** Milliseconds left (negative once past expiry); Infinity before promotion. */
  remainingMs(nowMs: number): number {
    return this.expiryMs - nowMs;
  }

  /** Sets the expiry to a full TTL from now, plus `extendMs` (etcd Lease.refresh). */
  refresh(nowMs: number, extendMs: number): void {
    this.expiryMs = nowMs + extendMs + this.ttlSeconds * 1000;
  }

  /** The attached keys in byte order: the order etcd deletes them in on revoke. */
  sortedKeys(): Buffer[] {
    return [...this.keys].map((k) => Buffer.from(k, 'latin1')).sort((a, b) => Buffer.compare(a, b));
  }
}
