/**
 * Waiters for an index to be reached (etcd pkg/wait.WaitTime): reads wait for the applied index to
 * pass their read index. Waiters are kept sorted by index, so a trigger wakes a prefix and stops.
 */
export class IndexWaiter {
  private reached = 0;
  private readonly waiters: { index: number; resolve: () => void }[] = [];

  get index(): number {
    return this.reached;
  }

  wait(index: number): Promise<void> {
    if (index <= this.reached) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.index > index) i--;
      this.waiters.splice(i, 0, { index, resolve });
    });
  }

  /** The index reached `index` (never goes back). */
  trigger(index: number): void {
    if (index <= this.reached) return;
    this.reached = index;
    let n = 0;
    while (n < this.waiters.length && this.waiters[n]!.index <= index) n++;
    for (const w of this.waiters.splice(0, n)) w.resolve();
  }
}
