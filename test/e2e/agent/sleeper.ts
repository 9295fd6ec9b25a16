// Sleeps that a pod's termination cuts short: a worker never sits out a back-off or a probe period
// after it has been told to stop.
export class Sleeper {
  private readonly wakers = new Set<() => void>();
  private woken = false;

  sleep(ms: number): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** Ends every current and future sleep at once. */
  wakeAll(): void {
    this.woken = true;
    for (const wake of [...this.wakers]) wake();
  }
}
