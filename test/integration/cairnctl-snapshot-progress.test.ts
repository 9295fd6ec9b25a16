import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCairnctl } from '../../server/src/ctl/main.js';
import { etcdctl, startCairn, stopAll } from '../framework/index.js';
import type { Member } from '../framework/index.js';
import { memoryIO } from '../unit/ctl/memory-io.js';

describe('cairnctl snapshot save reports the progress of a long transfer', () => {
  let m: Member;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-snap-progress-'));
  before(async () => {
    m = await startCairn({ name: 'snap-progress' });
    for (let i = 0; i < 4; i++)
      assert.equal((await etcdctl(m.clientUrl, ['put', `k${i}`, 'x'.repeat(60_000)])).code, 0);
  });
  after(async () => {
    await stopAll(m);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a progress line per second of transfer (the clock here advances 2 s per reading)', async () => {
    const io = memoryIO();
    let ns = 0n;
    const clocked = { ...io, monotonicNs: () => (ns += 2_000_000_000n) };
    const file = join(dir, 'snap.db');
    const code = await runCairnctl(
      [`--endpoints=${m.clientUrl.replace('http://', '')}`, 'snapshot', 'save', file],
      clocked,
    );
    const stderr = io.stderr.text;
    assert.equal(code, 0, stderr);
    const progress = stderr.split('\n').filter((l) => l.includes('"msg":"fetching snapshot: progress"'));
    assert.ok(progress.length >= 2, stderr);
    for (const line of progress)
      assert.match(line, /"received":"[\d.]+ kB","total":"[\d.]+ kB","percent":\d+/);
    assert.ok(statSync(file).size % 512 === 32, 'image padded to 512 bytes, then the SHA-256');
  });
});
