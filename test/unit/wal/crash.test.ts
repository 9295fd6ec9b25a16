import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { Wal } from '../../../server/src/wal/wal.js';
import { crashEntry } from './crash-child.js';
import { removeTempDirs, segmentFiles, tempDir } from './helpers.js';

after(removeTempDirs);

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const SEGMENT_SIZE_BYTES = 16 * 1024;
const RUNS = 5;
const READY_TIMEOUT_MS = 15_000;

/**
 * Starts the child on `dir`, waits until it has read the WAL, lets it save for `runMs`, kills it with
 * SIGKILL and returns the index it printed on opening and the last one it printed (acknowledged).
 */
async function runAndKill(dir: string, runMs: number): Promise<{ ready: number; acked: number }> {
  const child = spawn(process.execPath, [CHILD, 'run', dir, String(SEGMENT_SIZE_BYTES)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let pending = '';
  let ready: number | undefined;
  let acked = 0;
  let onReady: () => void = () => undefined;
  const readyP = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!; // an unfinished line does not count
    for (const line of lines) {
      if (line.startsWith('ready ')) {
        ready = Number(line.slice(6));
        onReady();
      } else acked = Number(line);
    }
  });
  const timeout = new AbortController();
  try {
    await Promise.race([
      readyP,
      exited.then(([code]) => assert.fail(`the child exited (${String(code)}) before opening the WAL`)),
      sleep(READY_TIMEOUT_MS, undefined, { signal: timeout.signal }).then(() =>
        assert.fail('the child did not open the WAL in time'),
      ),
    ]);
    await sleep(runMs);
  } finally {
    timeout.abort();
    child.kill('SIGKILL');
    await exited;
  }
  return { ready: ready!, acked };
}

describe('Wal under SIGKILL', () => {
  it('after a kill at a random moment, opens and holds every save acknowledged before it', async () => {
    const dir = join(tempDir(), 'wal');
    await (await Wal.create(dir, Buffer.from('crash'), { segmentSizeBytes: SEGMENT_SIZE_BYTES })).close();
    let acked = 0;
    for (let run = 0; run < RUNS; run++) {
      const runMs = 20 + Math.floor(Math.random() * 300);
      const r = await runAndKill(dir, runMs);
      const what = `run ${run} (killed after ${runMs} ms)`;
      assert.ok(r.ready >= acked, `${what}: the child read ${r.ready} entries, ${acked} were acknowledged`);
      acked = Math.max(acked, r.acked);

      const w = await Wal.open(dir, { index: 0, term: 0 }, { segmentSizeBytes: SEGMENT_SIZE_BYTES });
      const { entries, hardState } = await w.readAll();
      await w.close();
      assert.ok(entries.length >= acked, `${what}: ${entries.length} entries read, ${acked} acknowledged`);
      entries.forEach((e, i) => assert.deepEqual(e, crashEntry(i + 1), `${what}: entry ${i + 1}`));
      assert.ok(hardState.commit < Math.max(entries.length, 1));
    }
    assert.ok(acked > 0, 'the children saved something');
    assert.ok(segmentFiles(dir).length > 1, 'and cut segments while being killed');
  });
});
