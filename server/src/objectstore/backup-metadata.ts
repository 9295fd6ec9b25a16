// What a backup object says about itself, as S3 user metadata (x-amz-meta-*; a sidecar file for the
// file store): the SHA-256 of the whole object as stored (so `sha256sum` of a fetched copy equals it),
// the revision of the snapshot and the member and cluster it was taken from (16 hex digits, as ids are
// printed everywhere else in backups).
import type { ObjectMetadata } from './object-store.js';

export interface BackupMetadata {
  /** 64 lower-case hex digits. */
  readonly sha256: string;
  readonly revision: number;
  readonly memberId: bigint;
  readonly clusterId: bigint;
}

export const metaKeys = {
  sha256: 'sha256',
  revision: 'revision',
  memberId: 'member-id',
  clusterId: 'cluster-id',
} as const;

/** A 64-bit id as 16 hex digits (leading zeros kept, so ids sort and compare as text). */
export function hexId(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

export function toObjectMetadata(m: BackupMetadata): ObjectMetadata {
  return {
    [metaKeys.sha256]: m.sha256,
    [metaKeys.revision]: String(m.revision),
    [metaKeys.memberId]: hexId(m.memberId),
    [metaKeys.clusterId]: hexId(m.clusterId),
  };
}

const sha256Pattern = /^[0-9a-f]{64}$/;
const idPattern = /^[0-9a-f]{1,16}$/;

/** The fields of `meta` that are present and well-formed (anything else is left out, not guessed). */
export function fromObjectMetadata(meta: ObjectMetadata): Partial<BackupMetadata> {
  const out: { -readonly [K in keyof BackupMetadata]?: BackupMetadata[K] } = {};
  const sha = meta[metaKeys.sha256]?.toLowerCase();
  if (sha !== undefined && sha256Pattern.test(sha)) out.sha256 = sha;
  const rev = meta[metaKeys.revision];
  if (rev !== undefined && /^\d+$/.test(rev) && Number.isSafeInteger(Number(rev))) out.revision = Number(rev);
  const member = meta[metaKeys.memberId]?.toLowerCase();
  if (member !== undefined && idPattern.test(member)) out.memberId = BigInt(`0x${member}`);
  const cluster = meta[metaKeys.clusterId]?.toLowerCase();
  if (cluster !== undefined && idPattern.test(cluster)) out.clusterId = BigInt(`0x${cluster}`);
  return out;
}

/** Whether `text` is a SHA-256 in hex (either case). */
export function isSha256Hex(text: string): boolean {
  return sha256Pattern.test(text.toLowerCase());
}
