import { crc32c } from '../util/crc32c.js';
import type { Revision } from './revision.js';
import { bytesToRevision, revisionKey } from './revision.js';

const KEY_BUCKET_NAME = Buffer.from('key');

/** What HashKV answers (etcd mvcc KeyValueHash). */
export interface KeyValueHash {
  readonly hash: number;
  readonly compactRevision: number;
  readonly revision: number;
}

/**
 * etcd's kvHasher (server/storage/mvcc/hash.go): CRC-32C over the bucket name "key" and then, in key
 * order, every key-bucket entry (backend key, then stored KeyValue bytes) whose main revision is at most
 * `revision`. Entries at or below `compactRevision` count only if `keep` holds them (the revisions a
 * compaction at `revision` would keep), so a member that has already removed them physically and one
 * that has not yet done so hash alike. An empty `keep` filters nothing, as in etcd.
 */
export function hashKeyBucket(
  entries: Iterable<[Buffer, Buffer]>,
  compactRevision: number,
  revision: number,
  keep: ReadonlySet<string>,
): KeyValueHash {
  let crc = crc32c(KEY_BUCKET_NAME);
  for (const [k, v] of entries) {
    const rev: Revision = bytesToRevision(k);
    if (rev.main > revision) continue;
    if (rev.main <= compactRevision && keep.size > 0 && !keep.has(revisionKey(rev))) continue;
    crc = crc32c(k, crc);
    crc = crc32c(v, crc);
  }
  return { hash: crc, compactRevision, revision };
}
