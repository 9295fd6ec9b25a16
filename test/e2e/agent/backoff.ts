// The kubelet's crash-loop back-off: 10 s doubling to 5 min, forgotten after a run of 10 min.
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
export const BACKOFF_RESET_AFTER_MS = 600_000;

export class Backoff {
  private nextMs = BACKOFF_INITIAL_MS;

  /** The delay before the next restart, given how long the run that just ended lasted. */
  next(ranForMs: number): number {
    if (ranForMs >= BACKOFF_RESET_AFTER_MS) this.nextMs = BACKOFF_INITIAL_MS;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, BACKOFF_MAX_MS);
    return delay;
  }
}
