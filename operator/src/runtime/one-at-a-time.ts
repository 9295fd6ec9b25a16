// Runs async sections one after another in this process: a decision that reads "is anything running?"
// and then starts something must not interleave with another such decision (two workers, one leader).
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every section queued before it has settled; its result or error is the caller's. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
