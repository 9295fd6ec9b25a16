// --result-file: Cairn's own commands that run as Kubernetes Jobs (`backup save|fetch`, `defrag --safe`)
// also write their result to a file, typically /dev/termination-log, where the operator reads it from the
// pod's status. On success that is the command's one line of JSON; on failure the reason as one plain
// line (without it the operator would only have the log tail to show).
import { writeFile } from 'node:fs/promises';
import type { Invocation } from './command.js';
import { CtlExit } from './exit.js';

/** Kubernetes reads at most this much of a container's termination message (/dev/termination-log). */
export const resultFileBytesMax = 4096;

/** Writes a byte string to the result file ('' = none). */
export async function writeResultFile(path: string, bytes: string): Promise<void> {
  if (path === '') return;
  await writeFile(path, Buffer.from(bytes.slice(0, resultFileBytesMax), 'latin1'));
}

/** Runs a command that reports to --result-file: its failure (an exit with a message) goes there too. */
export async function withResultFile(
  inv: Invocation,
  run: (inv: Invocation, resultFile: string) => Promise<void>,
): Promise<void> {
  const resultFile = inv.flags.string('result-file');
  try {
    await run(inv, resultFile);
  } catch (err) {
    if (err instanceof CtlExit && err.errorText !== undefined) {
      await writeResultFile(resultFile, `${err.errorText}\n`).catch(() => undefined);
    }
    throw err;
  }
}

/** RFC 3339 in UTC without fractions of a second. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
