/**
 * Where the lessor gets its time. Injected so that unit tests drive expiry with a fake clock, and so
 * that nothing in lease/ reads Date.now() or arms a real timer on its own.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Calls `fn` once after `delayMs`; returns a handle for clearTimer. */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export type TimerHandle = object;

/**
 * The production clock: performance.now() (monotonic, unaffected by wall-clock steps) and unref'd
 * timers, so a pending expiry never keeps a stopping process alive.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, delayMs) => {
    // Node turns a delay past 2^31 - 1 ms into 1 ms: never ask for one.
    const t = setTimeout(fn, Math.min(Math.max(0, delayMs), 2 ** 31 - 1));
    t.unref();
    return t;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
