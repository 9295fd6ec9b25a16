/**
 * Time as the runtime sees it, injected so tests drive it by hand (a fake clock) instead of sleeping.
 *
 * Two readings: `now()` is wall-clock epoch milliseconds, only for timestamps written into Kubernetes
 * objects (Lease renewTime, Event lastTimestamp); `monotonicMs()` never jumps and is what every duration
 * is measured with (back-off, lease expiry as observed locally, renew deadline) — a wall-clock step must
 * not make a lease look expired.
 */
export interface Clock {
  now(): number;
  monotonicMs(): number;
  /**
   * Calls `fn` once after `ms`. Returns a cancel function. `unref` timers do not keep the process alive
   * on their own (a pending requeue should not hold a process open once everything else has stopped).
   */
  setTimer(fn: () => void, ms: number, opts?: { unref?: boolean }): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimer(fn, ms, opts) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (opts?.unref === true) t.unref();
    return () => clearTimeout(t);
  },
};
