import { assert } from '../util/assert.js';

/**
 * Callers waiting for their proposal to be applied, by request id (etcd pkg/wait). The applier
 * triggers the id with the result; a caller that gives up (timeout, leader change) cancels it, and a
 * late result for it is dropped.
 */
export class Wait<T> {
  private readonly pending = new Map<bigint, { resolve: (v: T) => void; reject: (e: Error) => void }>();

  /** Registers `id`; the promise settles on trigger() or cancel(). Ids must be unique. */
  register(id: bigint): Promise<T> {
    assert(!this.pending.has(id), `duplicate wait id ${id.toString(16)}`);
    return new Promise<T>((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Delivers the applied result; returns false if nobody waits (another member's proposal). */
  trigger(id: bigint, value: T): boolean {
    const w = this.pending.get(id);
    if (w === undefined) return false;
    this.pending.delete(id);
    w.resolve(value);
    return true;
  }

  /** Fails one waiter. */
  cancel(id: bigint, err: Error): void {
    const w = this.pending.get(id);
    if (w === undefined) return;
    this.pending.delete(id);
    w.reject(err);
  }

  /** Fails every waiter (the member stops, or loses the entries they wait for). */
  cancelAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const w of all) w.reject(err);
  }

  isRegistered(id: bigint): boolean {
    return this.pending.has(id);
  }

  get size(): number {
    return this.pending.size;
  }
}
