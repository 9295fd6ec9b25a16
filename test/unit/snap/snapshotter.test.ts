import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Snapshot } from '../../../server/src/raftpb/types.js';
import { emptySnapshot } from '../../../server/src/raftpb/types.js';
import { decodeSnapFile, encodeSnapFile, SnapFileError } from '../../../server/src/snap/snap-file.js';
import { NoSnapshotError, Snapshotter } from '../../../server/src/snap/snapshotter.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-snap-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function snap(term: number, index: number, data = `state@${index}`): Snapshot {
  return {
    data: new TextEncoder().encode(data),
    metadata: {
      index,
      term,
      confState: {
        voters: [1n, 2n, 3n],
        learners: [4n],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      },
    },
  };
}

const logger = newLogger('error', true);

describe('snap file', () => {
  it('round-trips and detects a flipped byte, truncation and garbage', () => {
    const data = new TextEncoder().encode('hello snapshot');
    const file = encodeSnapFile(data);
    assert.deepEqual(decodeSnapFile(file), data);
    const flipped = file.slice();
    flipped[file.length - 2] = (flipped[file.length - 2] ?? 0) ^ 0x40;
    assert.throws(() => decodeSnapFile(flipped), SnapFileError);
    assert.throws(() => decodeSnapFile(file.subarray(0, file.length - 3)), SnapFileError);
    assert.throws(() => decodeSnapFile(new Uint8Array(0)), /empty snapshot file/);
    assert.throws(() => decodeSnapFile(new Uint8Array([0xff, 0xff, 0xff])), SnapFileError);
  });
});

describe('Snapshotter', () => {
  it('saves under etcd file names and loads the newest', () => {
    const dir = tempDir();
    const s = new Snapshotter(dir, logger);
    s.save(snap(1, 5));
    s.save(snap(2, 12));
    s.save(snap(2, 9));
    assert.deepEqual(readdirSync(dir).sort(), [
      '0000000000000001-0000000000000005.snap',
      '0000000000000002-0000000000000009.snap',
      '0000000000000002-000000000000000c.snap',
    ]);
    const loaded = s.load();
    assert.equal(loaded.metadata.index, 12);
    assert.equal(loaded.metadata.term, 2);
    assert.deepEqual(loaded.metadata.confState.learners, [4n]);
    assert.equal(new TextDecoder().decode(loaded.data), 'state@12');
  });

  it('an empty snapshot is not saved; an empty dir has no snapshot', () => {
    const dir = tempDir();
    const s = new Snapshotter(dir, logger);
    s.save(emptySnapshot());
    assert.deepEqual(readdirSync(dir), []);
    assert.throws(() => s.load(), NoSnapshotError);
  });

  it('skips a broken newest file, renaming it *.broken, and falls back to the previous one', () => {
    const dir = tempDir();
    const s = new Snapshotter(dir, logger);
    s.save(snap(1, 5));
    s.save(snap(1, 8));
    const newest = join(dir, Snapshotter.fileName(1, 8));
    const bytes = readFileSync(newest);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    writeFileSync(newest, bytes);
    assert.equal(s.load().metadata.index, 5);
    assert.ok(existsSync(newest + '.broken'));
    assert.ok(!existsSync(newest));
  });

  it('a file whose name does not match its content is broken', () => {
    const dir = tempDir();
    const s = new Snapshotter(dir, logger);
    s.save(snap(1, 5));
    writeFileSync(
      join(dir, Snapshotter.fileName(3, 30)),
      readFileSync(join(dir, Snapshotter.fileName(1, 5))),
    );
    assert.equal(s.load().metadata.index, 5);
    assert.ok(existsSync(join(dir, Snapshotter.fileName(3, 30) + '.broken')));
  });

  it('loadNewestAvailable only takes snapshots the WAL recorded', () => {
    const dir = tempDir();
    const s = new Snapshotter(dir, logger);
    s.save(snap(1, 5));
    s.save(snap(2, 10));
    // A crash after writing the 2/10 snapshot file but before its WAL record.
    assert.equal(
      s.loadNewestAvailable([
        { term: 0, index: 0 },
        { term: 1, index: 5 },
      ]).metadata.index,
      5,
    );
    assert.equal(
      s.loadNewestAvailable([
        { term: 1, index: 5 },
        { term: 2, index: 10 },
      ]).metadata.index,
      10,
    );
    assert.throws(() => s.loadNewestAvailable([{ term: 0, index: 0 }]), NoSnapshotError);
  });

  it('purge keeps the newest snapshots and their database images', () => {
    const dir = tempDir();
    const s = new Snapshotter(dir, logger);
    for (const i of [5, 10, 15, 20]) {
      s.save(snap(1, i));
      writeFileSync(s.dbFilePath(i), 'db');
    }
    assert.equal(s.purge(2), 4);
    assert.deepEqual(readdirSync(dir).sort(), [
      '0000000000000001-000000000000000f.snap',
      '0000000000000001-0000000000000014.snap',
      '000000000000000f.snap.db',
      '0000000000000014.snap.db',
    ]);
    assert.equal(s.load().metadata.index, 20);
  });

  it('leaves no temporary file behind', () => {
    const dir = tempDir();
    new Snapshotter(dir, logger).save(snap(4, 44));
    assert.ok(readdirSync(dir).every((n) => !n.endsWith('.tmp')));
  });
});
