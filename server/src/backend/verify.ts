import { execFile } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * LMDB trusts its file: a damaged meta page or B-tree page makes it read through wild pointers and the
 * process dies with SIGSEGV instead of an error. So before the member opens its backend, the file is
 * checked twice:
 *
 * 1. Here, in JavaScript: the two meta pages at the start of data.mdb must carry LMDB's magic and data
 *    version, and the file must hold at least those two pages.
 *
 *      page 0 / page 1 (one OS page each):
 *        0        8        16   18   20        24       28       32
 *        +--------+--------+----+----+---------+--------+--------+-----
 *        | pgno   | txnid  |pad |flag|lower/up | magic  | version| …
 *        +--------+--------+----+----+---------+--------+--------+-----
 *        flag = 0x08 (P_META), magic = 0xBEEFC0DE, version = 2 (LMDB 1.0 format), little-endian
 *
 * 2. In a child process (verify-child.ts), which opens the environment and reads every entry of every
 *    bucket. If it crashes, the file is corrupt and the member reports it instead of crashing.
 */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_DATA_VERSION = 2;
const P_META = 0x08;
const PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];
/** Bound on the child's walk; a healthy multi-GiB file walks in seconds. */
const VERIFY_TIMEOUT_MS = 10 * 60 * 1000;

/** Returns why `dataFile` is not a sound LMDB file, or undefined when its meta pages look right. */
export function checkLmdbHeader(dataFile: string): string | undefined {
  const fd = openSync(dataFile, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 2 * 65536));
    readSync(fd, head, 0, head.length, 0);
    if (!isMetaPage(head, 0)) return 'the first meta page has no LMDB signature';
    const pageSize = PAGE_SIZES.find((ps) => isMetaPage(head, ps));
    if (pageSize === undefined) return 'the second meta page has no LMDB signature';
    if (size < 2 * pageSize || size % pageSize !== 0)
      return `the file size ${size} is not a whole number of ${pageSize}-byte pages`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function isMetaPage(buf: Buffer, offset: number): boolean {
  if (offset + 32 > buf.length) return false;
  return (
    buf.readUInt16LE(offset + 18) === P_META &&
    buf.readUInt32LE(offset + 24) === LMDB_MAGIC &&
    buf.readUInt32LE(offset + 28) === LMDB_DATA_VERSION
  );
}

/**
 * Walks the environment in `dir` in a child process; rejects with the reason if that fails or crashes.
 * Resolves with the buckets that do not exist.
 */
export function verifyInChild(dir: string, buckets: readonly string[]): Promise<string[]> {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'verify-child.js');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, dir, ...buckets],
      { timeout: VERIFY_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err === null) {
          try {
            return resolve((JSON.parse(stdout) as { missing: string[] }).missing);
          } catch {
            return reject(new Error(`verification printed ${JSON.stringify(stdout.slice(0, 200))}`));
          }
        }
        const e = err as { signal?: string | null; code?: number | string | null };
        if (e.signal) reject(new Error(`reading the database crashed lmdb (${e.signal})`));
        else reject(new Error(stderr.trim() || `verification exited with ${String(e.code)}`));
      },
    );
  });
}
