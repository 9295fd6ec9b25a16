import { readdir } from 'node:fs/promises';
import { WalError } from './errors.js';

/**
 * Segment files: `<seq:016x>-<index:016x>.wal` (etcd's walName). `seq` counts segments from 0; `index` is
 * the raft index of the first entry the segment was cut for — one past the last entry (or snapshot)
 * index saved before the cut, 0 for the first segment. Entries with a smaller index can still appear in
 * it (a new leader overwriting an uncommitted suffix), but every entry of an earlier segment at or past
 * `index` has by then been overwritten, so reading from the segment selected for a snapshot index
 * (below) misses nothing after the snapshot.
 */
export interface SegmentName {
  readonly name: string;
  readonly seq: number;
  readonly index: number;
}

const SEGMENT_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** A segment being created: written and synced under this name, then renamed to its final name. */
export const TMP_SUFFIX = '.tmp';

export function segmentName(seq: number, index: number): string {
  return `${hex16(seq)}-${hex16(index)}.wal`;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export function parseSegmentName(name: string): SegmentName | undefined {
  const m = SEGMENT_RE.exec(name);
  if (m === null) return undefined;
  const seq = BigInt(`0x${m[1]!}`);
  const index = BigInt(`0x${m[2]!}`);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (seq > max || index > max) {
    throw new WalError('ErrCorrupt', `wal: segment name ${name} has a number above 2^53-1`, name);
  }
  return { name, seq: Number(seq), index: Number(index) };
}

export interface DirListing {
  /** Segment files sorted by sequence number. */
  readonly segments: SegmentName[];
  /** Leftover `.tmp` files of a segment cut (or create) a crash interrupted. */
  readonly tmp: string[];
  /** Anything else; left alone. */
  readonly other: string[];
}

export async function listDir(dir: string): Promise<DirListing> {
  const segments: SegmentName[] = [];
  const tmp: string[] = [];
  const other: string[] = [];
  for (const name of await readdir(dir)) {
    const seg = parseSegmentName(name);
    if (seg !== undefined) segments.push(seg);
    else if (name.endsWith(TMP_SUFFIX)) tmp.push(name);
    else other.push(name);
  }
  // Fixed-width hex: name order is sequence order.
  segments.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { segments, tmp, other };
}

/**
 * The position in `segments` of the segment to start reading at for a snapshot at `index`: the last one
 * whose name index is at or below it (etcd searchIndex). -1 when there is none.
 */
export function searchIndex(segments: readonly SegmentName[], index: number): number {
  for (let i = segments.length - 1; i >= 0; i--) {
    if (segments[i]!.index <= index) return i;
  }
  return -1;
}

/** Throws ErrMissingSegment unless the sequence numbers increase by one from segment to segment. */
export function checkSequence(segments: readonly SegmentName[]): void {
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (cur.seq !== prev.seq + 1) {
      throw new WalError(
        'ErrMissingSegment',
        `wal: missing segment: ${prev.name} is followed by ${cur.name} (sequence ${prev.seq + 1} expected)`,
        cur.name,
      );
    }
  }
}
