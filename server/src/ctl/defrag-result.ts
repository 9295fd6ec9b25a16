// The one line of JSON `defrag --safe --result-file` writes: what the operator reads from a Job's
// termination log (/dev/termination-log, of which Kubernetes keeps 4096 bytes). Field names are the
// operator's contract; keep them.
//
//   {"startTime":"2025-01-01T00:00:00Z","completionTime":"…","members":[
//     {"name":"kv-1","endpoint":"http://…","leader":false,"dbSizeBefore":N,"dbSizeInUseBefore":N,
//      "dbSizeAfter":N,"defragmented":true,"seconds":1.25},
//     {"name":"kv-0",…,"defragmented":false,"skipped":"rule false"},
//     {"name":"kv-2",…,"defragmented":false,"seconds":0.5,"error":"…"}],
//    "disarmed":["NOSPACE"]}
//
// plus "error":"…" at the top level when the run stopped early (the gate failed before a later member, a
// member failed without --continue-on-error, or the disarm failed).
import { bytesOf } from './byte-string.js';
import { jsonString } from './go-json.js';
import { rfc3339 } from './result-file.js';

/** The result must fit the termination log (4096 bytes) with room to spare. */
export const resultBytesMax = 4000;

export interface MemberResult {
  readonly name: string;
  readonly endpoint: string;
  readonly leader: boolean;
  readonly dbSizeBefore: number;
  readonly dbSizeInUseBefore: number;
  /** Status after the defragmentation (absent when skipped, failed, or Status failed then). */
  readonly dbSizeAfter?: number;
  readonly defragmented: boolean;
  /** How long the Defragment call took (absent when skipped). */
  readonly seconds?: number;
  /** Why it was not defragmented although the rule allowed it. */
  readonly error?: string;
  /** Why it was left alone on purpose ("rule false"). */
  readonly skipped?: string;
}

export interface DefragResult {
  readonly startTime: Date;
  readonly completionTime: Date;
  readonly members: readonly MemberResult[];
  /** Alarm types disarmed (["NOSPACE"] or []). */
  readonly disarmed: readonly string[];
  readonly error?: string;
}

const str = (text: string): string => jsonString(bytesOf(text));

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function memberJson(m: MemberResult, errorMax: number): string {
  let out =
    `{"name":${str(m.name)},"endpoint":${str(m.endpoint)},"leader":${m.leader},` +
    `"dbSizeBefore":${m.dbSizeBefore},"dbSizeInUseBefore":${m.dbSizeInUseBefore}`;
  if (m.dbSizeAfter !== undefined) out += `,"dbSizeAfter":${m.dbSizeAfter}`;
  out += `,"defragmented":${m.defragmented}`;
  if (m.seconds !== undefined) out += `,"seconds":${Math.round(m.seconds * 1000) / 1000}`;
  if (m.skipped !== undefined) out += `,"skipped":${str(m.skipped)}`;
  if (m.error !== undefined) out += `,"error":${str(clip(m.error, errorMax))}`;
  return `${out}}`;
}

function render(r: DefragResult, errorMax: number, members: readonly MemberResult[]): string {
  let out =
    `{"startTime":"${rfc3339(r.startTime)}","completionTime":"${rfc3339(r.completionTime)}",` +
    `"members":[${members.map((m) => memberJson(m, errorMax)).join(',')}],` +
    `"disarmed":[${r.disarmed.map(str).join(',')}]`;
  if (r.error !== undefined) out += `,"error":${str(clip(r.error, errorMax))}`;
  return `${out}}`;
}

/**
 * The result as one line (a byte string, newline included) of at most resultBytesMax bytes. Error texts
 * are clipped first; should that not be enough (a cluster of dozens of members), the members at the end
 * are left out and the line says so with "truncated":true.
 */
export function renderDefragResult(r: DefragResult): string {
  for (const errorMax of [300, 80]) {
    const line = `${render(r, errorMax, r.members)}\n`;
    if (line.length <= resultBytesMax) return line;
  }
  // Without members the line is a few hundred bytes (the times, the disarmed list, a clipped error).
  let n = r.members.length - 1;
  for (; n > 0; n--) {
    if (truncated(r, n).length <= resultBytesMax) break;
  }
  return truncated(r, Math.max(n, 0));
}

function truncated(r: DefragResult, members: number): string {
  return `${render(r, 80, r.members.slice(0, members)).slice(0, -1)},"truncated":true}\n`;
}
