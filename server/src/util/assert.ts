/**
 * Invariant checks that stay on in production. A failed assertion means the program itself is wrong
 * (not the client, not the disk): crashing is safer than carrying on with broken state.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${String(value)}`);
}
