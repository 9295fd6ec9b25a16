// The child process of crash.test.ts: opens the WAL, then saves in a loop and prints the last index
// after each awaited save, until the test kills it with SIGKILL. Run by node --test too (every file
// under test/ is), where it does nothing: it works only when started as `crash-child.js run <dir> <size>`.
import type { Entry } from '../../../server/src/raftpb/types.js';
import { Wal } from '../../../server/src/wal/wal.js';
import { entry } from './helpers.js';

/** Bounds, should the test never kill it. */
const SAVES_MAX = 100_000;
const RUN_MS_MAX = 20_000;

/** Entry i of the crash runs: sizes from 64 B to ~760 B, so records straddle sectors and segments. */
export function crashEntry(index: number): Entry {
  return entry(index, 1, 64 + ((index * 37) % 700));
}

async function main(dir: string, segmentSizeBytes: number): Promise<void> {
  const w = await Wal.open(dir, { index: 0, term: 0 }, { segmentSizeBytes });
  const { entries } = await w.readAll();
  let last = entries.length;
  process.stdout.write(`ready ${last}\n`);
  const deadline = Date.now() + RUN_MS_MAX;
  for (let i = 0; i < SAVES_MAX && Date.now() < deadline; i++) {
    const batch: Entry[] = [];
    for (let k = 1; k <= 1 + (i % 5); k++) batch.push(crashEntry(last + k));
    await w.save({ term: 1, vote: 1n, commit: last }, batch, true);
    last += batch.length;
    // Synchronous on a pipe (Linux): printed means acknowledged, and nothing acknowledged goes unprinted.
    process.stdout.write(`${last}\n`);
  }
  await w.close();
}

if (process.argv[2] === 'run') await main(process.argv[3]!, Number(process.argv[4]));
