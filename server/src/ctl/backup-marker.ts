// `backup restore`'s marker, <data-dir>/restored-from.json, and the decision it drives. The marker is
// written into the new data dir before that dir is moved into place, so a data dir holding a marker is
// complete. A restarted init container then finds the marker and does nothing. The marker records the
// cluster token too: the same snapshot restored again with a new token (an in-place restore of a cluster
// that once started from it) is a new cluster, not the one already there.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const markerFile = 'restored-from.json';

export interface RestoreMarker {
  readonly url: string;
  readonly sha256: string;
  readonly revision: number;
  /** The --initial-cluster-token the data dir was built with ('' when the marker predates it). */
  readonly token: string;
  /** RFC 3339 UTC. */
  readonly restoredAt: string;
}

/** The data dir as restore finds it. */
export type DataDirState = 'absent' | 'empty' | 'nonEmpty';

/** Entries a fresh volume may hold that do not count as data (ext4's lost+found). */
const ignoredEntries = new Set(['lost+found']);

export function dataDirState(dir: string): DataDirState {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  return entries.some((e) => !ignoredEntries.has(e)) ? 'nonEmpty' : 'empty';
}

/** The marker in `dir`, or undefined when there is none or it does not parse. */
export function readMarker(dir: string): RestoreMarker | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, markerFile), 'utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const m = parsed as Record<string, unknown>;
  if (typeof m['url'] !== 'string' || typeof m['sha256'] !== 'string') return undefined;
  return {
    url: m['url'],
    sha256: m['sha256'],
    revision: typeof m['revision'] === 'number' ? m['revision'] : 0,
    token: typeof m['token'] === 'string' ? m['token'] : '',
    restoredAt: typeof m['restoredAt'] === 'string' ? m['restoredAt'] : '',
  };
}

export type RestoreDecision =
  /** The data dir already holds this backup: do nothing. */
  | 'alreadyRestored'
  /** Build the data dir (absent or empty). */
  | 'restore'
  /** Build a new data dir and swap it in for the existing one (--replace). */
  | 'replace'
  /** The data dir holds other data and --replace was not given: touch nothing. */
  | 'refuse';

export interface RestoreSituation {
  readonly state: DataDirState;
  readonly marker: RestoreMarker | undefined;
  readonly url: string;
  /** The SHA-256 the restore expects (--sha256, else the object's metadata); undefined if unknown. */
  readonly sha256: string | undefined;
  /** The --initial-cluster-token of this restore. */
  readonly token: string;
  readonly replace: boolean;
}

/** Whether the marker records this url and token (and this sha256, when one is expected). */
export function markerMatches(
  m: RestoreMarker | undefined,
  url: string,
  sha256: string | undefined,
  token: string,
): boolean {
  if (m === undefined || m.url !== url || m.token !== token) return false;
  return sha256 === undefined || m.sha256.toLowerCase() === sha256.toLowerCase();
}

export function decideRestore(s: RestoreSituation): RestoreDecision {
  if (s.state === 'absent' || s.state === 'empty') return 'restore';
  if (markerMatches(s.marker, s.url, s.sha256, s.token)) return 'alreadyRestored';
  return s.replace ? 'replace' : 'refuse';
}
