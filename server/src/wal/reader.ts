import { decodeEntry, decodeHardState } from '../raftpb/codec.js';
import { emptyHardState, type Entry, type HardState } from '../raftpb/types.js';
import { crc32c } from '../util/crc32c.js';
import { WalError, type WalErrorCode } from './errors.js';
import {
  FRAME_HEADER_BYTES,
  RecordType,
  SECTOR_BYTES,
  decodeLengthField,
  decodeWalSnapshot,
  parseRecord,
  type WalRecord,
  type WalSnapshot,
} from './record.js';

/**
 * Reads the records of consecutive segments, checks them, and collects what open() and verify() return.
 * Pure: the caller reads the files and hands over their bytes, one segment at a time.
 *
 * The repair rule — where a torn write ends and corruption begins (etcd decoder.go, made stricter):
 *
 * The log ends cleanly at a segment's end of file, or at a zero length field (the preallocated zeros).
 * In the LAST segment, the record at the end offset is a torn write — the process or machine died while
 * it was being written, so it was never acknowledged — when
 *   (a) fewer than 8 bytes remain for its length field, or its frame runs past the end of the file, or
 *   (b) it fails to read (bad protobuf, non-zero padding, CRC mismatch) AND a 512-byte sector its body
 *       touches is all zeros from the record (or sector) start to the sector end: a sector of the write
 *       that never reached the disk (hasTornSector).
 * The log then ends before it, and everything from there to the end of the file is zeroed (a torn write
 * can leave later sectors written and earlier ones not; stale bytes there would misframe the next
 * appends). Anything else is corruption and refuses with the file and offset:
 *   - a CRC mismatch with no zero sector, anywhere; a crc record that does not match the running CRC;
 *   - any unreadable record, past-EOF frame or zero length field followed by data in a segment that is
 *     not the last (a segment is synced and truncated at its end before the next one is created);
 *   - a length field whose padding flag does not match its length (a length field is 8-aligned, inside
 *     one sector, so it is never torn);
 *   - a segment whose first two records are not its crc and metadata records (they are synced before
 *     the segment gets its name);
 *   - and, beyond single records: a metadata record that differs from the first, a snapshot record at
 *     the starting index with another term, no snapshot record at the starting index, an entry leaving a
 *     hole after the ones read.
 * What this cannot tell apart (nor can etcd's): a corrupted record in the last segment that happens to
 * contain a zero sector looks torn, and the records after it are dropped with a warning naming how many
 * non-zero bytes were discarded.
 */
export class WalReader {
  metadata: Uint8Array | undefined;
  hardState: HardState = emptyHardState();
  /** Entries after the starting snapshot index; a later entry at an index replaces it and all after it. */
  readonly entries: Entry[] = [];
  /** The index of the last entry read (all of them, before the snapshot too) or snapshot, if larger. */
  lastIndex = 0;
  /** The running CRC after the last valid record. */
  crc = 0;
  snapshotMatched = false;
  /** In the last segment read: the end of the last valid record, where appending resumes. */
  endOffset = 0;
  /** In the last segment read: non-zero bytes after endOffset (a torn write's remains), to be zeroed. */
  tornBytes = 0;
  /** Why the log ended before the end of the file's data, when tornBytes > 0. */
  tornReason: string | undefined;

  constructor(private readonly from: WalSnapshot) {}

  readSegment(name: string, bytes: Buffer, isLast: boolean): void {
    let off = 0;
    let records = 0;
    // Bounded: every iteration advances `off` by a whole frame (at least 8 bytes) or leaves the loop.
    for (;;) {
      const frame = this.nextFrame(name, bytes, off, isLast);
      if (frame === undefined) break;
      const { end, recordBytes } = frame;
      const rec = this.checkFrame(name, bytes, off, recordBytes, end, isLast);
      if (rec === undefined) break;
      if (records === 0 && rec.type !== RecordType.Crc) {
        throw corrupt('ErrCorrupt', `segment does not start with a crc record (type ${rec.type})`, name, off);
      }
      if (records === 1 && rec.type !== RecordType.Metadata) {
        throw corrupt('ErrCorrupt', `metadata record expected second (type ${rec.type})`, name, off);
      }
      this.apply(rec, name, off);
      records++;
      off = end;
    }
    if (records < 2) throw corrupt('ErrCorrupt', 'segment header (crc, metadata) incomplete', name, off);
    if (isLast) {
      this.endOffset = off;
      this.tornBytes = countNonZero(bytes, off);
    }
  }

  /**
   * The end of the frame at `off`, or undefined when the segment's records end there (end of file, zero
   * length field, or — last segment only — a frame cut off by the end of the file).
   */
  private nextFrame(
    name: string,
    bytes: Buffer,
    off: number,
    isLast: boolean,
  ): { end: number; recordBytes: number } | undefined {
    const remaining = bytes.length - off;
    if (remaining === 0) return undefined;
    if (remaining < FRAME_HEADER_BYTES) {
      if (isLast) return this.torn('length field cut off by the end of the file');
      throw corrupt('ErrCorrupt', 'length field cut off by the end of the segment', name, off);
    }
    const lo = bytes.readUInt32LE(off);
    const hi = bytes.readUInt32LE(off + 4);
    if (lo === 0 && hi === 0) {
      // Preallocated space. In an earlier segment nothing may follow it.
      if (!isLast && countNonZero(bytes, off) > 0) {
        throw corrupt('ErrCorrupt', 'zero length field followed by data', name, off);
      }
      if (isLast) this.tornReason = 'zero length field followed by data';
      return undefined;
    }
    const len = decodeLengthField(lo, hi);
    if (len === undefined) {
      const field = bytes.subarray(off, off + FRAME_HEADER_BYTES).toString('hex');
      throw corrupt('ErrCorrupt', `invalid length field ${field}`, name, off);
    }
    const end = off + FRAME_HEADER_BYTES + len.recordBytes + len.padBytes;
    if (end > bytes.length) {
      if (isLast) return this.torn(`record of ${len.recordBytes} bytes runs past the end of the file`);
      throw corrupt(
        'ErrCorrupt',
        `record of ${len.recordBytes} bytes runs past the end of the segment`,
        name,
        off,
      );
    }
    return { end, recordBytes: len.recordBytes };
  }

  /** The record in [off, end), or undefined when it is the torn last write; throws on corruption. */
  private checkFrame(
    name: string,
    bytes: Buffer,
    off: number,
    recordBytes: number,
    end: number,
    isLast: boolean,
  ): WalRecord | undefined {
    const body = bytes.subarray(off + FRAME_HEADER_BYTES, end);
    const fail = (code: WalErrorCode, headline: string, detail: string): undefined => {
      const bodyStart = off + FRAME_HEADER_BYTES;
      if (isLast && hasTornSector(bytes, bodyStart, bodyStart + recordBytes)) {
        return this.torn(`${headline}, ${detail}, with a zero sector: a torn write`);
      }
      throw corrupt(code, headline, name, off, detail);
    };
    if (countNonZero(body.subarray(recordBytes)) > 0)
      return fail('ErrCorrupt', 'unreadable record', 'non-zero padding');
    const rec = parseRecord(body.subarray(0, recordBytes));
    if (typeof rec === 'string') return fail('ErrCorrupt', 'unreadable record', rec);
    if (rec.type === RecordType.Crc) {
      // A new segment restates the running CRC. Reading from a later segment than the first starts at 0:
      // nothing to compare, the chain is taken from here (etcd does the same).
      if (this.crc !== 0 && rec.crc !== this.crc) {
        throw corrupt(
          'ErrCRCMismatch',
          'crc mismatch',
          name,
          off,
          `the segment carries ${hex(rec.crc)}, the records before it end at ${hex(this.crc)}`,
        );
      }
      this.crc = rec.crc;
      return rec;
    }
    const crc = crc32c(rec.data, this.crc);
    if (rec.crc !== crc)
      return fail('ErrCRCMismatch', 'crc mismatch', `record ${hex(rec.crc)}, computed ${hex(crc)}`);
    this.crc = crc;
    return rec;
  }

  private torn(reason: string): undefined {
    this.tornReason = reason;
    return undefined;
  }

  private apply(rec: WalRecord, name: string, off: number): void {
    try {
      switch (rec.type) {
        case RecordType.Entry: {
          const e = decodeEntry(rec.data);
          if (e.index > this.from.index) {
            const pos = e.index - this.from.index - 1;
            if (pos > this.entries.length) {
              const last = this.from.index + this.entries.length;
              throw corrupt(
                'ErrEntryGap',
                `entry ${e.index} leaves a gap after entry ${last} (reading from snapshot index ${this.from.index})`,
                name,
                off,
              );
            }
            // A new leader overwrote an uncommitted suffix: this entry replaces the one at its index and
            // everything after it.
            this.entries.length = pos;
            this.entries.push(e);
          }
          this.lastIndex = e.index;
          break;
        }
        case RecordType.State:
          this.hardState = decodeHardState(rec.data);
          break;
        case RecordType.Metadata:
          if (this.metadata !== undefined && !Buffer.from(this.metadata).equals(rec.data)) {
            throw corrupt('ErrMetadataConflict', 'metadata differs from the first segment read', name, off);
          }
          this.metadata ??= new Uint8Array(rec.data);
          break;
        case RecordType.Snapshot: {
          const s = decodeWalSnapshot(rec.data);
          if (s.index === this.from.index) {
            if (s.term !== this.from.term) {
              throw corrupt(
                'ErrSnapshotMismatch',
                `snapshot record at index ${s.index} has term ${s.term}, opened at term ${this.from.term}`,
                name,
                off,
              );
            }
            this.snapshotMatched = true;
          }
          this.lastIndex = Math.max(this.lastIndex, s.index);
          break;
        }
        case RecordType.Crc:
          break;
      }
    } catch (err) {
      if (err instanceof WalError) throw err;
      // The CRC matched, so these are the bytes that were written: a writer bug, or a format we do not know.
      const detail = err instanceof Error ? err.message : String(err);
      throw corrupt('ErrCorrupt', `undecodable ${RecordType[rec.type]} record`, name, off, detail);
    }
  }
}

/** "wal: <headline> in <file> at offset <offset> (<detail>)". */
function corrupt(
  code: WalErrorCode,
  headline: string,
  file: string,
  offset: number,
  detail?: string,
): WalError {
  const tail = detail === undefined ? '' : ` (${detail})`;
  return new WalError(code, `wal: ${headline} in ${file} at offset ${offset}${tail}`, file, offset);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

const ZERO_CHUNK = Buffer.alloc(64 * 1024);

/** The number of non-zero bytes in bytes[from:]. Fast on the common all-zero preallocated tail. */
export function countNonZero(bytes: Uint8Array, from = 0): number {
  let n = 0;
  // Bounded: advances by a chunk per iteration.
  for (let pos = from; pos < bytes.length; pos += ZERO_CHUNK.length) {
    const chunk = bytes.subarray(pos, Math.min(pos + ZERO_CHUNK.length, bytes.length));
    if (Buffer.compare(chunk, ZERO_CHUNK.subarray(0, chunk.length)) === 0) continue;
    for (const b of chunk) if (b !== 0) n++;
  }
  return n;
}

/**
 * Whether a sector the record body bytes[start:end) touches never reached the disk: all zeros from
 * where the body starts in it (or the sector start) to the sector end (or the end of the file). The whole
 * sector is looked at, not just the record's part of it — an unwritten sector is zero throughout, also
 * past the record — so a record that merely ends in zero bytes or zero padding does not look torn.
 * (etcd's isTornEntry looks at the record's part only, padding included.)
 */
export function hasTornSector(bytes: Uint8Array, start: number, end: number): boolean {
  for (let pos = start; pos < end;) {
    const sectorEnd = (Math.floor(pos / SECTOR_BYTES) + 1) * SECTOR_BYTES;
    if (countNonZero(bytes.subarray(pos, Math.min(sectorEnd, bytes.length))) === 0) return true;
    pos = sectorEnd;
  }
  return false;
}
