import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Registry } from 'prom-client';
import winston from 'winston';
import { EntryType, type ConfState, type Entry } from '../../../server/src/raftpb/types.js';
import { decodeLengthField, parseRecord, type WalRecord } from '../../../server/src/wal/record.js';

const dirs: string[] = [];

/** A fresh temporary directory, removed by removeTempDirs(). */
export function tempDir(prefix = 'cairn-wal-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The payload of entry `index` in term `term`: deterministic, so a reader can check every byte. */
export function payload(index: number, term: number, size = 40 + (index % 90)): Uint8Array {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (index * 31 + term * 7 + k) & 0xff || 1;
  return new Uint8Array(b);
}

export function entry(index: number, term: number, size?: number): Entry {
  return { index, term, type: EntryType.EntryNormal, data: payload(index, term, size) };
}

export function entries(from: number, to: number, term: number, size?: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

export const CONF_STATE: ConfState = {
  voters: [1n, 2n, 3n],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

/** Segment files in `dir`, sorted (sequence order). */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();
}

export interface Frame {
  readonly offset: number;
  readonly end: number;
  readonly record: WalRecord;
}

/** The frames of a segment file up to its first zero length field (or end), decoded without checks. */
export function frames(path: string): Frame[] {
  const buf = readFileSync(path);
  const out: Frame[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const lo = buf.readUInt32LE(off);
    const hi = buf.readUInt32LE(off + 4);
    if (lo === 0 && hi === 0) break;
    const len = decodeLengthField(lo, hi);
    if (len === undefined) throw new Error(`bad length field at ${off}`);
    const rec = parseRecord(buf.subarray(off + 8, off + 8 + len.recordBytes));
    if (typeof rec === 'string') throw new Error(`bad record at ${off}: ${rec}`);
    const end = off + 8 + len.recordBytes + len.padBytes;
    out.push({ offset: off, end, record: { type: rec.type, crc: rec.crc, data: Buffer.from(rec.data) } });
    off = end;
  }
  return out;
}

/** A logger that keeps what it logs, for assertions. */
export function capturingLogger(): { logger: winston.Logger; logs: { level: string; message: string }[] } {
  const logs: { level: string; message: string }[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: { level: string; message: string }, _enc, cb) {
      logs.push(info);
      cb();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, logs };
}

export async function histogramCount(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  const count = m.values.find((v) => (v as { metricName?: string }).metricName === `${name}_count`);
  return count?.value ?? 0;
}
