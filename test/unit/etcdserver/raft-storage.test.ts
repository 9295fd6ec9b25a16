import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openRaftStorage } from '../../../server/src/etcdserver/raft-storage.js';
import type { Snapshot } from '../../../server/src/raftpb/types.js';
import { emptyConfState, newEntry } from '../../../server/src/raftpb/types.js';
import { newLogger } from '../../../server/src/util/logger.js';

const logger = newLogger('error', true);
const root = mkdtempSync(join(tmpdir(), 'cairn-raftstorage-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function dirs(): { walDir: string; snapDir: string } {
  const d = join(root, `m${++n}`);
  return { walDir: join(d, 'wal'), snapDir: join(d, 'snap') };
}

const bootstrap = {
  metadata: new TextEncoder().encode('node 1 cluster 7'),
  confState: { ...emptyConfState(), voters: [1n, 2n, 3n] },
};

function entries(from: number, to: number, term: number) {
  return Array.from({ length: to - from + 1 }, (_, i) =>
    newEntry({ index: from + i, term, data: new TextEncoder().encode(`e${from + i}`) }),
  );
}

describe('openRaftStorage', () => {
  it('bootstraps a new member from a snapshot at 1/1 holding its configuration', async () => {
    const d = dirs();
    const rs = await openRaftStorage({ ...d, bootstrap, logger });
    assert.equal(rs.fresh, true);
    assert.equal(rs.storage.firstIndex(), 2);
    assert.equal(rs.storage.lastIndex(), 1);
    assert.deepEqual(rs.storage.initialState().confState.voters, [1n, 2n, 3n]);
    assert.deepEqual(readdirSync(d.snapDir), ['0000000000000001-0000000000000001.snap']);
    await rs.wal.close();
  });

  it('restarts with the hard state and entries the WAL holds after the newest snapshot', async () => {
    const d = dirs();
    const first = await openRaftStorage({ ...d, bootstrap, logger });
    await first.wal.save({ term: 2, vote: 1n, commit: 4 }, entries(2, 6, 2), true);
    await first.wal.close();
    const again = await openRaftStorage({ ...d, bootstrap, logger });
    assert.equal(again.fresh, false);
    assert.deepEqual(again.hardState, { term: 2, vote: 1n, commit: 4 });
    assert.equal(again.storage.lastIndex(), 6);
    assert.equal(again.storage.term(6), 2);
    assert.deepEqual(again.metadata, bootstrap.metadata);
    // Bootstrap options are ignored for an existing member.
    assert.deepEqual(again.storage.initialState().confState.voters, [1n, 2n, 3n]);
    await again.wal.close();
  });

  it('passes over a snapshot file the WAL never recorded (a crash between the two writes)', async () => {
    const d = dirs();
    const rs = await openRaftStorage({ ...d, bootstrap, logger });
    await rs.wal.save({ term: 2, vote: 1n, commit: 6 }, entries(2, 6, 2), true);
    const recorded: Snapshot = {
      data: new TextEncoder().encode('state@4'),
      metadata: { index: 4, term: 2, confState: bootstrap.confState },
    };
    rs.snapshotter.save(recorded);
    await rs.wal.saveSnapshot({ index: 4, term: 2, confState: bootstrap.confState });
    // A newer snapshot file whose WAL record never made it.
    rs.snapshotter.save({
      ...recorded,
      data: new TextEncoder().encode('state@6'),
      metadata: { ...recorded.metadata, index: 6 },
    });
    await rs.wal.close();
    const again = await openRaftStorage({ ...d, bootstrap, logger });
    assert.equal(again.snapshot.metadata.index, 4);
    assert.equal(new TextDecoder().decode(again.snapshot.data), 'state@4');
    assert.equal(again.storage.firstIndex(), 5);
    assert.equal(again.storage.lastIndex(), 6);
    await again.wal.close();
  });

  it('refuses a WAL without any usable snapshot', async () => {
    const d = dirs();
    const rs = await openRaftStorage({ ...d, bootstrap, logger });
    await rs.wal.close();
    rmSync(join(d.snapDir, '0000000000000001-0000000000000001.snap'));
    assert.ok(existsSync(d.walDir));
    await assert.rejects(
      openRaftStorage({ ...d, bootstrap, logger }),
      /has a WAL but .* has no snapshot the WAL recorded/,
    );
  });
});
