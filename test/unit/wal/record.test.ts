import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { crc32c } from '../../../server/src/util/crc32c.js';
import {
  RecordEncoder,
  RecordType,
  decodeLengthField,
  decodeWalSnapshot,
  encodeWalSnapshot,
  padBytes,
  parseRecord,
} from '../../../server/src/wal/record.js';
import { hasTornSector } from '../../../server/src/wal/reader.js';
import { parseSegmentName, segmentName } from '../../../server/src/wal/segment.js';
import { Wal } from '../../../server/src/wal/wal.js';
import { CONF_STATE, removeTempDirs, tempDir } from './helpers.js';

after(removeTempDirs);

/** A frame assembled by hand from etcd's format description: LE length, pad flag, body, zero padding. */
function handFrame(body: number[]): Buffer {
  const pad = (8 - (body.length % 8)) % 8;
  const head = Buffer.alloc(8);
  head.writeUInt32LE(body.length, 0);
  head[7] = pad === 0 ? 0 : 0x80 | pad;
  return Buffer.concat([head, Buffer.from(body), Buffer.alloc(pad)]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

describe('wal record format (etcd encoder.go / decoder.go)', () => {
  it('create() writes crc(0), metadata and the {0, 0} snapshot record, byte for byte as etcd frames them', async () => {
    const dir = join(tempDir(), 'wal');
    const w = await Wal.create(dir, Buffer.from('somedata'), { segmentSizeBytes: 4096 });
    await w.close();
    const file = readFileSync(join(dir, '0000000000000000-0000000000000000.wal'));

    const meta = [...Buffer.from('somedata')];
    const metaCrc = crc32c(Buffer.from(meta));
    const snapData = [0x08, 0x00, 0x10, 0x00]; // walpb.Snapshot{index: 0, term: 0}
    const snapCrc = crc32c(Buffer.from(snapData), metaCrc);
    const want = Buffer.concat([
      handFrame([0x08, RecordType.Crc, 0x10, 0x00]),
      handFrame([0x08, RecordType.Metadata, 0x10, ...varint(metaCrc), 0x1a, meta.length, ...meta]),
      handFrame([0x08, RecordType.Snapshot, 0x10, ...varint(snapCrc), 0x1a, snapData.length, ...snapData]),
    ]);
    assert.deepEqual(file.subarray(0, want.length), want);
    assert.equal(want.length, 72, 'three 8-aligned frames');
    assert.equal(file.length, 4096, 'preallocated to the segment size');
    assert.ok(
      file.subarray(want.length).every((b) => b === 0),
      'the rest is preallocated zeros',
    );
  });

  it('pads every record to 8 bytes and says so in the length field top byte', () => {
    for (let len = 1; len <= 40; len++) {
      const enc = new RecordEncoder(0);
      enc.add(RecordType.Entry, Buffer.alloc(len, 0xab));
      const buf = enc.take();
      assert.equal(buf.length % 8, 0);
      const lo = buf.readUInt32LE(0);
      const hi = buf.readUInt32LE(4);
      const field = decodeLengthField(lo, hi);
      assert.ok(field);
      assert.equal(field.padBytes, padBytes(field.recordBytes));
      assert.equal(hi >>> 24, field.padBytes === 0 ? 0 : 0x80 | field.padBytes);
      assert.equal(8 + field.recordBytes + field.padBytes, buf.length);
    }
    // Inconsistent pad flags, reserved bits and a zero length are not length fields a writer produces.
    assert.equal(decodeLengthField(5, 0), undefined, 'length 5 needs the flag 0x83');
    assert.equal(decodeLengthField(8, 0x81 << 24), undefined, 'length 8 has no padding');
    assert.equal(decodeLengthField(5, 0x84 << 24), undefined, 'wrong pad count');
    assert.equal(decodeLengthField(0, 0), undefined);
    assert.deepEqual(decodeLengthField(5, 0x83 << 24), { recordBytes: 5, padBytes: 3 });
  });

  it('chains the CRC over the data of every record; a crc record restates it without changing it', () => {
    const enc = new RecordEncoder(0x1234);
    enc.add(RecordType.Crc, new Uint8Array());
    enc.add(RecordType.Entry, Buffer.from('one'));
    enc.add(RecordType.State, Buffer.from('two'));
    const buf = enc.take();
    const recs = [];
    for (let off = 0; off < buf.length;) {
      const f = decodeLengthField(buf.readUInt32LE(off), buf.readUInt32LE(off + 4))!;
      const r = parseRecord(buf.subarray(off + 8, off + 8 + f.recordBytes));
      assert.ok(typeof r !== 'string');
      recs.push(r);
      off += 8 + f.recordBytes + f.padBytes;
    }
    assert.deepEqual(
      recs.map((r) => r.crc),
      [
        0x1234,
        crc32c(Buffer.from('one'), 0x1234),
        crc32c(Buffer.from('two'), crc32c(Buffer.from('one'), 0x1234)),
      ],
    );
    assert.equal(recs[0]!.data.length, 0);
    assert.equal(enc.crc, recs[2]!.crc);
  });

  it('parses records strictly', () => {
    assert.equal(typeof parseRecord(Buffer.from([0x08, 0x02, 0x10, 0x00])), 'object');
    assert.match(parseRecord(Buffer.from([0x08, 0x09])) as string, /record type 9/);
    assert.match(parseRecord(Buffer.from([0x10, 0x00])) as string, /without a type/);
    assert.match(parseRecord(Buffer.from([0x08, 0x02, 0x1a, 0x05, 0x01])) as string, /past the record/);
    assert.match(parseRecord(Buffer.from([0x08, 0x02, 0x22, 0x00])) as string, /unexpected protobuf tag/);
  });

  it('encodes walpb.Snapshot with index and term always and conf_state when known', () => {
    assert.deepEqual(
      Buffer.from(encodeWalSnapshot({ index: 0, term: 0 })),
      Buffer.from([0x08, 0x00, 0x10, 0x00]),
    );
    const s = decodeWalSnapshot(encodeWalSnapshot({ index: 300, term: 7, confState: CONF_STATE }));
    assert.equal(s.index, 300);
    assert.equal(s.term, 7);
    assert.deepEqual(s.confState, CONF_STATE);
  });

  it('names segments <seq:016x>-<index:016x>.wal', () => {
    assert.equal(segmentName(1, 0x21), '0000000000000001-0000000000000021.wal');
    assert.deepEqual(parseSegmentName('0000000000000002-0000000000000031.wal'), {
      name: '0000000000000002-0000000000000031.wal',
      seq: 2,
      index: 0x31,
    });
    assert.equal(parseSegmentName('0000000000000002-0000000000000031.wal.tmp'), undefined);
    assert.equal(parseSegmentName('2-31.wal'), undefined);
  });

  it('calls a record torn only when a sector its body touches is zero to the sector end', () => {
    const buf = Buffer.alloc(2048, 1);
    assert.equal(hasTornSector(buf, 8, 2048), false);
    buf.fill(0, 1024, 1100);
    assert.equal(hasTornSector(buf, 8, 2048), false, '[1024, 1536) still has data');
    buf.fill(0, 1024, 1536);
    assert.equal(hasTornSector(buf, 8, 2048), true);

    // A body ending at 1300: zeros up to its end are not enough when the sector has data after it...
    const b2 = Buffer.alloc(2048, 1);
    b2.fill(0, 1024, 1300);
    assert.equal(hasTornSector(b2, 8, 1300), false);
    // ...but are when the rest of the sector is zero too (nothing after it reached the disk).
    b2.fill(0, 1300, 1536);
    assert.equal(hasTornSector(b2, 8, 1300), true);
    // A body that ends at a sector boundary does not touch the next sector, zero or not.
    assert.equal(hasTornSector(b2, 8, 1024), false);
    // The end of the file ends the last sector.
    const b3 = Buffer.alloc(1100, 1);
    b3.fill(0, 1024);
    assert.equal(hasTornSector(b3, 8, 1100), true);
  });
});
