/**
 * A broken safety or liveness property. The simulator stops at the first one and prints the seed, the
 * invariant's name and the last events.
 */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}
