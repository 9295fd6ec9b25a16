import { InvariantViolation } from './violation.js';

/**
 * The core's applied index follows the application: after advance(), RawNode.status().applied is the
 * index the state machine has applied (the last committed entry handed out, or the snapshot installed).
 * The core relies on it (a leader accepts a new conf change only once the previous one is applied; the
 * auto-leave of a joint config waits for it), so a drift is a bug even before anything else breaks.
 */
export function checkAppliedIndex(coreApplied: number, appApplied: number, source: string): void {
  if (coreApplied !== appApplied) {
    throw new InvariantViolation(
      'applied-index',
      `${source}: the core says applied=${coreApplied}, the state machine applied ${appApplied}`,
    );
  }
}
