import assert from 'node:assert/strict';
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { decodeEntry, decodeHardState } from '../../../server/src/raftpb/codec.js';
import { emptyHardState, type Entry, type HardState } from '../../../server/src/raftpb/types.js';
import { crc32c } from '../../../server/src/util/crc32c.js';
import { WalError, type WalErrorCode } from '../../../server/src/wal/errors.js';
import { newWalMetrics } from '../../../server/src/wal/metrics.js';
import { RecordEncoder, RecordType, encodeWalSnapshot } from '../../../server/src/wal/record.js';
import { parseSegmentName, segmentName } from '../../../server/src/wal/segment.js';
import { Wal, type WalOptions } from '../../../server/src/wal/wal.js';
import {
  CONF_STATE,
  capturingLogger,
  entries,
  entry,
  frames,
  histogramCount,
  removeTempDirs,
  segmentFiles,
  tempDir,
} from './helpers.js';

after(removeTempDirs);

const META = Buffer.from('node=1 cluster=7');
const NONE_SNAP = { index: 0, term: 0 };

function newDir(): string {
  return join(tempDir(), 'wal');
}

async function reopen(dir: string, from = NONE_SNAP, opts?: WalOptions) {
  const w = await Wal.open(dir, from, opts);
  const contents = await w.readAll();
  return { w, ...contents };
}

async function rejects(p: Promise<unknown>, code: WalErrorCode, message?: RegExp): Promise<WalError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WalError, `expected WalError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** Deterministic pseudo-random numbers in [0, 1) (a test needs no more than an LCG). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 0x1_0000_0000;
  };
}

/** What readAll must return: entries with later writes at an index replacing it and all after it. */
class Model {
  entries: Entry[] = [];
  hardState: HardState = emptyHardState();
  save(hs: HardState | undefined, ents: Entry[]): void {
    if (ents.length > 0) {
      this.entries.length = ents[0]!.index - 1;
      this.entries.push(...ents);
    }
    if (hs !== undefined) this.hardState = hs;
  }
}

/**
 * Saves `steps` Readys like a raft member's: appends in the current term, commit-only updates (not
 * synced), and new leaders overwriting an uncommitted suffix.
 */
async function saveReadys(w: Wal, model: Model, steps: number, seed: number): Promise<void> {
  const rand = lcg(seed);
  let last = model.entries.length;
  let { term, commit } = model.hardState;
  term = Math.max(term, 1);
  for (let i = 0; i < steps; i++) {
    const r = rand();
    let ents: Entry[] = [];
    let mustSync = true;
    if (r < 0.15 && last > commit) {
      term++;
      const from = commit + 1 + Math.floor(rand() * (last - commit));
      const n = 1 + Math.floor(rand() * 4);
      ents = entries(from, from + n - 1, term);
      last = from + n - 1;
    } else if (r < 0.35) {
      commit = Math.min(last, commit + 1 + Math.floor(rand() * 5));
      mustSync = false;
    } else {
      const n = 1 + Math.floor(rand() * 8);
      ents = entries(last + 1, last + n, term);
      last += n;
      if (rand() < 0.5) commit = Math.min(last, commit + Math.floor(rand() * n));
    }
    const hs = { term, vote: BigInt(1 + (term % 3)), commit };
    await w.save(hs, ents, mustSync);
    model.save(hs, ents);
  }
}

describe('Wal round trip', () => {
  it('reads back what was saved, overwrites of an uncommitted suffix resolved, across reopens', async () => {
    for (const segmentSizeBytes of [64 * 1024 * 1024, 2048]) {
      const dir = newDir();
      const model = new Model();
      const w = await Wal.create(dir, META, { segmentSizeBytes });
      await saveReadys(w, model, 300, 1);
      await w.close();

      const r1 = await reopen(dir, NONE_SNAP, { segmentSizeBytes });
      assert.deepEqual(Buffer.from(r1.metadata), META);
      assert.deepEqual(r1.entries, model.entries);
      assert.deepEqual(r1.hardState, model.hardState);
      // Appending after a reopen continues the CRC chain and the log.
      await saveReadys(r1.w, model, 200, 2);
      await r1.w.close();

      const r2 = await reopen(dir, NONE_SNAP, { segmentSizeBytes });
      assert.deepEqual(r2.entries, model.entries);
      assert.deepEqual(r2.hardState, model.hardState);
      assert.ok(model.entries.length > 400, `${model.entries.length} entries`);
      await r2.w.close();
      if (segmentSizeBytes === 2048) assert.ok(segmentFiles(dir).length > 10, 'the small segments were cut');
      else assert.equal(segmentFiles(dir).length, 1);
    }
  });

  it('keeps the last hard state saved, also unsynced commit-only ones, and carries it into new segments', async () => {
    const dir = newDir();
    const w = await Wal.create(dir, META, { segmentSizeBytes: 2048 });
    await w.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 3, 1), true);
    await w.save({ term: 1, vote: 1n, commit: 2 }, [], false);
    await w.save({ term: 2, vote: 3n, commit: 3 }, [], true);
    await w.save({ term: 2, vote: 3n, commit: 3 }, [], false);
    await w.save(undefined, entries(4, 4, 2), true); // no hard state: the last one stays
    await w.save({ term: 0, vote: 0n, commit: 0 }, [], true); // empty: not recorded
    await w.close();
    let r = await reopen(dir, NONE_SNAP, { segmentSizeBytes: 2048 });
    assert.deepEqual(r.hardState, { term: 2, vote: 3n, commit: 3 });

    // Only entries from here on: new segments repeat the hard state in their header, so reading from a
    // snapshot in a later segment still finds it.
    for (let i = 5; i <= 80; i++) await r.w.save(undefined, [entry(i, 2)], true);
    await r.w.saveSnapshot({ index: 70, term: 2, confState: CONF_STATE });
    await r.w.releaseLockTo(70);
    await r.w.close();
    const first = segmentFiles(dir)[0]!;
    assert.notEqual(first, segmentName(0, 0), 'the first segments were released');
    const heads = frames(join(dir, first)).slice(0, 3);
    assert.deepEqual(
      heads.map((f) => f.record.type),
      [RecordType.Crc, RecordType.Metadata, RecordType.State],
    );
    assert.deepEqual(decodeHardState(heads[2]!.record.data), { term: 2, vote: 3n, commit: 3 });
    r = await reopen(dir, { index: 70, term: 2 });
    assert.deepEqual(r.hardState, { term: 2, vote: 3n, commit: 3 });
    assert.deepEqual(r.entries, entries(71, 80, 2));
    await r.w.close();
  });

  it('a created WAL reads back empty', async () => {
    const dir = newDir();
    await (await Wal.create(dir, META)).close();
    const r = await reopen(dir);
    assert.deepEqual(r.entries, []);
    assert.deepEqual(r.hardState, emptyHardState());
    assert.deepEqual(Buffer.from(r.metadata), META);
    await r.w.close();
  });
});

describe('Wal segments', () => {
  it('cuts at the segment size: consecutive names, the CRC chained through every record and segment', async () => {
    const dir = newDir();
    const segmentSizeBytes = 4096;
    const w = await Wal.create(dir, META, { segmentSizeBytes });
    let hs: HardState = emptyHardState();
    for (let i = 1; i <= 200; i += 4) {
      hs = { term: 1, vote: 1n, commit: i - 1 };
      await w.save(hs, entries(i, i + 3, 1), true);
    }
    await w.close();

    const names = segmentFiles(dir);
    assert.ok(names.length >= 4, `${names.length} segments`);
    let crc = 0;
    let lastEntryIndex = 0;
    let lastState: HardState | undefined;
    names.forEach((name, k) => {
      const seg = parseSegmentName(name)!;
      assert.equal(seg.seq, k, 'sequence numbers count up from 0');
      assert.equal(
        seg.index,
        k === 0 ? 0 : lastEntryIndex + 1,
        'named after the index its first entry follows',
      );
      const fs = frames(join(dir, name));
      assert.equal(fs[0]!.record.type, RecordType.Crc, 'a segment starts with the carried-over CRC');
      assert.equal(fs[0]!.record.crc, crc, `${name}: the crc record holds the previous segment's last CRC`);
      assert.equal(fs[1]!.record.type, RecordType.Metadata);
      assert.deepEqual(fs[1]!.record.data, META);
      if (k > 0) {
        assert.equal(fs[2]!.record.type, RecordType.State, 'then the last hard state');
        assert.deepEqual(decodeHardState(fs[2]!.record.data), lastState);
      }
      for (const f of fs) {
        if (f.record.type !== RecordType.Crc) crc = crc32c(f.record.data, crc);
        assert.equal(f.record.crc, crc, `${name} at ${f.offset}: crc chained over every record's data`);
        if (f.record.type === RecordType.Entry) lastEntryIndex = decodeEntry(f.record.data).index;
        if (f.record.type === RecordType.State) lastState = decodeHardState(f.record.data);
      }
      const size = statSync(join(dir, name)).size;
      if (k < names.length - 1) {
        assert.equal(size, fs[fs.length - 1]!.end, 'a finished segment is truncated at its last record');
        assert.ok(size >= segmentSizeBytes, 'and was cut once past the segment size');
      } else {
        assert.equal(size, segmentSizeBytes, 'the tail is preallocated');
      }
    });
    assert.equal(lastEntryIndex, 200);

    const r = await reopen(dir, NONE_SNAP, { segmentSizeBytes });
    assert.deepEqual(r.entries, entries(1, 200, 1));
    assert.deepEqual(r.hardState, hs);
    await r.w.close();
  });

  it('opens at a snapshot, skipping earlier entries; releaseLockTo deletes only segments wholly before it', async () => {
    const dir = newDir();
    const opts = { segmentSizeBytes: 4096 };
    const w = await Wal.create(dir, META, opts);
    for (let i = 1; i <= 150; i += 5)
      await w.save({ term: 1, vote: 1n, commit: i + 4 }, entries(i, i + 4, 1), true);
    await w.saveSnapshot({ index: 100, term: 1, confState: CONF_STATE });
    const before = segmentFiles(dir);
    const holding = [...before].reverse().find((n) => parseSegmentName(n)!.index <= 100)!;
    assert.notEqual(holding, before[0], 'the snapshot index is past the first segment');

    await w.releaseLockTo(100);
    const kept = segmentFiles(dir);
    assert.deepEqual(
      kept,
      before.slice(before.indexOf(holding)),
      'segments from the one holding 100 on are kept',
    );
    await w.releaseLockTo(100); // again: nothing more goes
    assert.deepEqual(segmentFiles(dir), kept);

    await w.save({ term: 1, vote: 1n, commit: 160 }, entries(151, 160, 1), true);
    await w.close();
    assert.deepEqual((await Wal.verify(dir, { index: 100, term: 1 })).commit, 160);

    const r = await reopen(dir, { index: 100, term: 1 }, opts);
    assert.deepEqual(r.entries, entries(101, 160, 1));
    assert.deepEqual(r.hardState, { term: 1, vote: 1n, commit: 160 });
    // releaseLockTo at the exact name index of a segment keeps that segment (it holds the index).
    const names = segmentFiles(dir);
    const exact = parseSegmentName(names[names.length - 1]!)!.index;
    await r.w.releaseLockTo(exact);
    assert.deepEqual(segmentFiles(dir), [names[names.length - 1]]);
    await r.w.releaseLockTo(1_000_000); // never the tail
    assert.deepEqual(segmentFiles(dir), [names[names.length - 1]]);
    await r.w.close();

    // The entries up to 100 are gone with their segments: opening before the snapshot is refused.
    await rejects(Wal.open(dir, NONE_SNAP), 'ErrFileNotFound', /no segment .* holds snapshot index 0/);
  });

  it('refuses a snapshot it does not know or whose term differs, and a log that has a hole after `from`', async () => {
    const dir = newDir();
    const w = await Wal.create(dir, META);
    await w.save({ term: 1, vote: 1n, commit: 5 }, entries(1, 5, 1), true);
    // A follower restored a snapshot from the leader far ahead of its log, then appended after it.
    await w.saveSnapshot({ index: 100, term: 3, confState: CONF_STATE });
    await w.save({ term: 3, vote: 2n, commit: 103 }, entries(101, 103, 3), true);
    await w.close();

    await rejects(Wal.open(dir, { index: 100, term: 2 }), 'ErrSnapshotMismatch', /term 3, opened at term 2/);
    await rejects(
      Wal.open(dir, { index: 102, term: 3 }),
      'ErrSnapshotNotFound',
      /no snapshot record at index 102/,
    );
    await rejects(Wal.verify(dir, { index: 102, term: 3 }), 'ErrSnapshotNotFound');
    await rejects(Wal.open(dir, NONE_SNAP), 'ErrEntryGap', /entry 101 leaves a gap after entry 5/);
    const r = await reopen(dir, { index: 100, term: 3 });
    assert.deepEqual(r.entries, entries(101, 103, 3));
    await r.w.close();
  });
});

describe('Wal create', () => {
  it('refuses a non-empty directory and creates in a missing or empty one', async () => {
    const base = tempDir();
    const busy = join(base, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'something'), 'x');
    await rejects(Wal.create(busy, META), 'ErrExist', /not empty/);
    assert.equal(await Wal.exists(busy), false);

    const empty = join(base, 'empty');
    mkdirSync(empty);
    await (await Wal.create(empty, META)).close();
    assert.equal(await Wal.exists(empty), true);
    await rejects(Wal.create(empty, META), 'ErrExist');

    const nested = join(base, 'a', 'b', 'wal');
    assert.equal(await Wal.exists(nested), false);
    await (await Wal.create(nested, META)).close();
    assert.deepEqual(segmentFiles(nested), [segmentName(0, 0)]);
    await rejects(Wal.open(join(base, 'none'), NONE_SNAP), 'ErrFileNotFound');
  });
});

describe('Wal repair: a torn last write is cut off, later appends work and survive reopen', () => {
  /** A WAL whose last record is entry 21 (no hard state after it); returns the tail and that frame. */
  async function walEndingInEntry(size: number) {
    const dir = newDir();
    const w = await Wal.create(dir, META, { segmentSizeBytes: 64 * 1024 });
    for (let i = 1; i <= 20; i += 2)
      await w.save({ term: 1, vote: 1n, commit: i }, entries(i, i + 1, 1), true);
    await w.save(undefined, [entry(21, 1, size)], true);
    await w.close();
    const tail = join(dir, segmentFiles(dir)[0]!);
    const last = frames(tail).at(-1)!;
    assert.equal(decodeEntry(last.record.data).index, 21);
    return { dir, tail, last };
  }

  async function appendAndReopen(dir: string): Promise<void> {
    const { logger, logs } = capturingLogger();
    const r = await reopen(dir, NONE_SNAP, { logger });
    assert.deepEqual(r.entries, entries(1, 20, 1), 'entry 21 was never acknowledged');
    assert.deepEqual(r.hardState, { term: 1, vote: 1n, commit: 19 });
    assert.ok(logs.some((l) => l.level === 'warn' && /repairing a torn write/.test(l.message)));
    await r.w.save({ term: 2, vote: 2n, commit: 20 }, [entry(21, 2, 10)], true);
    await r.w.save({ term: 2, vote: 2n, commit: 22 }, entries(22, 30, 2), true);
    await r.w.close();
    const again = await reopen(dir);
    assert.deepEqual(again.entries, [...entries(1, 20, 1), entry(21, 2, 10), ...entries(22, 30, 2)]);
    assert.deepEqual(again.hardState, { term: 2, vote: 2n, commit: 22 });
    await again.w.close();
  }

  it('a file cut off in the middle of its last record', async () => {
    const { dir, tail, last } = await walEndingInEntry(300);
    truncateSync(tail, last.offset + 8 + 100);
    await appendAndReopen(dir);
  });

  it('a last record whose later sectors are zeros (written before the crash, never reached the disk)', async () => {
    const { dir, tail, last } = await walEndingInEntry(3000);
    const buf = readFileSync(tail);
    buf.fill(0, last.offset + 8 + 2400, last.end);
    writeFileSync(tail, buf);
    // verify() accepts the torn tail and changes nothing.
    assert.equal((await Wal.verify(dir, NONE_SNAP)).commit, 19);
    assert.deepEqual(readFileSync(tail), buf);
    await appendAndReopen(dir);
  });

  it('a zero length field with the rest of the write after it: the remains are zeroed', async () => {
    // Larger than what appendAndReopen writes after it: remains left in place would misframe the reads.
    const { dir, tail, last } = await walEndingInEntry(3000);
    const buf = readFileSync(tail);
    buf.fill(0, last.offset, last.offset + 8);
    writeFileSync(tail, buf);
    await appendAndReopen(dir);
  });

  it('a cut interrupted before its rename: the .tmp segment is deleted and the old tail continues', async () => {
    const dir = newDir();
    const opts = { segmentSizeBytes: 2048 };
    const w = await Wal.create(dir, META, opts);
    await w.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 5, 1), true);
    await w.close();
    // What a crash between writing the new segment and renaming it leaves (the old tail truncated).
    const tmp = `${segmentName(1, 6)}.tmp`;
    writeFileSync(join(dir, tmp), Buffer.alloc(2048, 0x77));
    truncateSync(join(dir, segmentName(0, 0)), frames(join(dir, segmentName(0, 0))).at(-1)!.end);
    assert.equal((await Wal.verify(dir, NONE_SNAP)).term, 1, 'verify reads past it and leaves it');
    assert.ok(readdirSync(dir).includes(tmp));

    const r = await reopen(dir, NONE_SNAP, opts);
    assert.ok(!readdirSync(dir).includes(tmp), 'open deletes it');
    await r.w.save({ term: 1, vote: 1n, commit: 5 }, entries(6, 40, 1), true);
    await r.w.close();
    const again = await reopen(dir, NONE_SNAP, opts);
    assert.deepEqual(again.entries, entries(1, 40, 1));
    assert.ok(segmentFiles(dir).length > 1, 'the next save cut again');
    await again.w.close();
  });

  it('is not applied to a segment before the last: a record cut off there is corruption', async () => {
    const dir = newDir();
    const w = await Wal.create(dir, META, { segmentSizeBytes: 2048 });
    for (let i = 1; i <= 60; i += 3)
      await w.save({ term: 1, vote: 1n, commit: i }, entries(i, i + 2, 1), true);
    await w.close();
    const name = segmentFiles(dir)[1]!;
    const last = frames(join(dir, name)).at(-1)!;
    truncateSync(join(dir, name), last.offset + 20);
    await rejects(
      Wal.open(dir, NONE_SNAP),
      'ErrCorrupt',
      new RegExp(
        `^wal: record of \\d+ bytes runs past the end of the segment in ${name} at offset ${last.offset}$`,
      ),
    );
  });
});

describe('Wal corruption refuses with the file and offset', () => {
  async function multiSegmentWal(): Promise<string> {
    const dir = newDir();
    const w = await Wal.create(dir, META, { segmentSizeBytes: 2048 });
    for (let i = 1; i <= 90; i += 3)
      await w.save({ term: 1, vote: 1n, commit: i }, entries(i, i + 2, 1), true);
    // Make sure the tail holds a few entries (the last save may just have cut a new one).
    const tailEntries = () =>
      frames(join(dir, segmentFiles(dir).at(-1)!)).filter((f) => f.record.type === RecordType.Entry).length;
    for (let i = 91; tailEntries() < 3 && i < 200; i++) await w.save(undefined, [entry(i, 1)], true);
    await w.close();
    assert.ok(segmentFiles(dir).length >= 4);
    assert.ok(tailEntries() >= 3);
    return dir;
  }

  function flipInEntry(dir: string, name: string, which: 'first' | 'last-but-one') {
    const path = join(dir, name);
    const fs = frames(path).filter((f) => f.record.type === RecordType.Entry);
    const f = which === 'first' ? fs[0]! : fs[fs.length - 2]!;
    const buf = readFileSync(path);
    const at = f.end - 16; // inside the entry's data
    buf[at] = buf[at]! ^ 0x40;
    writeFileSync(path, buf);
    return f.offset;
  }

  it('a flipped byte in a middle segment', async () => {
    const dir = await multiSegmentWal();
    const name = segmentFiles(dir)[1]!;
    assert.match(name, /^0000000000000001-/);
    const offset = flipInEntry(dir, name, 'first');
    const prefix = new RegExp(
      `^wal: crc mismatch in ${name} at offset ${offset} \\(record 0x[0-9a-f]{8}, computed`,
    );
    const err = await rejects(Wal.open(dir, NONE_SNAP), 'ErrCRCMismatch', prefix);
    assert.equal(err.file, name);
    assert.equal(err.offset, offset);
    await rejects(Wal.verify(dir, NONE_SNAP), 'ErrCRCMismatch', prefix);
  });

  it('a flipped byte in the last segment, before its last record', async () => {
    const dir = await multiSegmentWal();
    const names = segmentFiles(dir);
    const name = names[names.length - 1]!;
    const offset = flipInEntry(dir, name, 'last-but-one');
    await rejects(Wal.open(dir, NONE_SNAP), 'ErrCRCMismatch', new RegExp(`in ${name} at offset ${offset} `));
  });

  it('a flipped padding flag in a length field, even in the last segment', async () => {
    const dir = await multiSegmentWal();
    const names = segmentFiles(dir);
    const name = names[names.length - 1]!;
    const path = join(dir, name);
    const f = frames(path)[3]!;
    const buf = readFileSync(path);
    buf[f.offset + 7] = buf[f.offset + 7]! ^ 0x01;
    writeFileSync(path, buf);
    await rejects(
      Wal.open(dir, NONE_SNAP),
      'ErrCorrupt',
      new RegExp(`^wal: invalid length field [0-9a-f]{16} in ${name} at offset ${f.offset}$`),
    );
  });

  it('a missing middle segment', async () => {
    const dir = await multiSegmentWal();
    const names = segmentFiles(dir);
    unlinkSync(join(dir, names[2]!));
    await rejects(
      Wal.open(dir, NONE_SNAP),
      'ErrMissingSegment',
      new RegExp(`^wal: missing segment: ${names[1]} is followed by ${names[3]} \\(sequence 2 expected\\)$`),
    );
    await rejects(Wal.verify(dir, NONE_SNAP), 'ErrMissingSegment');
  });

  it('a segment whose carried-over CRC or metadata does not match the ones before', async () => {
    const build = (carried: (crc: number) => number, meta2: Buffer) => {
      const dir = newDir();
      mkdirSync(dir, { recursive: true });
      const e = new RecordEncoder(0);
      e.add(RecordType.Crc, new Uint8Array());
      e.add(RecordType.Metadata, META);
      e.add(RecordType.Snapshot, encodeWalSnapshot(NONE_SNAP));
      e.add(RecordType.Entry, Buffer.from([0x08, 0x00, 0x10, 0x01, 0x18, 0x01]));
      writeFileSync(join(dir, segmentName(0, 0)), e.take());
      const e2 = new RecordEncoder(carried(e.crc));
      e2.add(RecordType.Crc, new Uint8Array());
      e2.add(RecordType.Metadata, meta2);
      writeFileSync(join(dir, segmentName(1, 2)), e2.take());
      return dir;
    };
    const ok = await reopen(build((c) => c, META));
    assert.equal(ok.entries.length, 1);
    await ok.w.close();
    await rejects(
      Wal.open(
        build((c) => (c ^ 1) >>> 0, META),
        NONE_SNAP,
      ),
      'ErrCRCMismatch',
      new RegExp(`^wal: crc mismatch in ${segmentName(1, 2)} at offset 0 \\(the segment carries`),
    );
    await rejects(
      Wal.open(
        build((c) => c, Buffer.from('another member')),
        NONE_SNAP,
      ),
      'ErrMetadataConflict',
      new RegExp(`in ${segmentName(1, 2)} at offset 16$`),
    );
  });
});

describe('Wal durability plumbing', () => {
  it('observes every sync in etcd_disk_wal_fsync_duration_seconds; a commit-only save is not synced', async () => {
    const registry = new Registry();
    const metrics = newWalMetrics(registry);
    const name = 'etcd_disk_wal_fsync_duration_seconds';
    const w = await Wal.create(newDir(), META, { metrics });
    const created = await histogramCount(registry, name);
    assert.equal(created, 3, 'the first segment, its directory, and the parent after the rename');
    await w.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 2, 1), false);
    assert.equal(await histogramCount(registry, name), 4, 'entries are synced whatever mustSync says');
    await w.save({ term: 1, vote: 1n, commit: 2 }, [], false);
    assert.equal(await histogramCount(registry, name), 4, 'a commit-only change is not');
    await w.save({ term: 1, vote: 1n, commit: 2 }, [], true);
    assert.equal(await histogramCount(registry, name), 5, 'unless the caller asks');
    await w.save({ term: 2, vote: 0n, commit: 2 }, [], false);
    assert.equal(await histogramCount(registry, name), 6, 'a term change is');
    await w.saveSnapshot({ index: 2, term: 1, confState: CONF_STATE });
    assert.equal(await histogramCount(registry, name), 7);
    await w.close();

    const m = await registry.getSingleMetric(name)!.get();
    const les = m.values
      .filter((v) => v.labels.le !== undefined && v.labels.le !== '+Inf')
      .map((v) => v.labels.le);
    assert.deepEqual(
      les,
      Array.from({ length: 14 }, (_, k) => 0.001 * 2 ** k),
      "etcd's buckets: 1 ms doubling to 8.192 s",
    );
    const written = (await registry.getSingleMetric('etcd_disk_wal_write_bytes_total')!.get()).values[0]!
      .value;
    assert.ok(written > 0);
  });

  it('warns about a slow fdatasync', async () => {
    const { logger, logs } = capturingLogger();
    const w = await Wal.create(newDir(), META, { logger, syncWarnDurationMs: 0 });
    await w.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 1, 1), true);
    await w.close();
    const slow = logs.filter((l) => l.level === 'warn' && l.message === 'slow fdatasync');
    assert.ok(slow.length >= 2, `${slow.length} warnings`);
    assert.equal((slow[0] as unknown as { expectedMs: number }).expectedMs, 0);
  });

  it('takes no writes after a failed one; reopening recovers', async () => {
    const dir = newDir();
    const w = await Wal.create(dir, META, { segmentSizeBytes: 1024 });
    // The next cut will create <seq 1>-<index 11>.wal.tmp: a directory in its way makes the cut fail.
    mkdirSync(join(dir, `${segmentName(1, 11)}.tmp`));
    await assert.rejects(w.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 10, 1, 200), true), /EISDIR/);
    await rejects(
      w.save(undefined, entries(11, 11, 1), true),
      'ErrFailed',
      /an earlier write or sync failed/,
    );
    await w.close();
    const r = await reopen(dir, NONE_SNAP, { segmentSizeBytes: 1024 });
    assert.deepEqual(
      r.entries,
      entries(1, 10, 1, 200),
      'the failed save reached the disk before the cut failed',
    );
    await r.w.save(undefined, entries(11, 12, 1), true);
    await r.w.close();
    const again = await reopen(dir);
    assert.equal(again.entries.length, 12);
    await again.w.close();
  });
});
