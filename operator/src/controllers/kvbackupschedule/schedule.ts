// The pure parts of a backup schedule: cron times in a time zone (npm cron-parser), which scheduled time
// is due now (a missed one is run once if still within the starting deadline, as a CronJob does), and
// which backups retention removes.
import { CronExpressionParser } from 'cron-parser';
import type { KVBackup, KVBackupScheduleSpec } from '../../api/v1alpha1/index.js';

export type Parsed =
  { ok: true; next(after: Date): Date; latest(atOrBefore: Date): Date } | { ok: false; error: string };

/** A schedule and its time zone, checked once: a bad one is reported, never thrown mid-pass. */
export function parseSchedule(expression: string, timeZone: string | undefined): Parsed {
  const tz = timeZone ?? 'UTC';
  try {
    // cron-parser reports an unknown zone only as an invalid date; Intl names it.
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    return { ok: false, error: `unknown time zone ${JSON.stringify(tz)}` };
  }
  // Five fields, as a CronJob's (cron-parser would also take seconds, or fill in missing fields).
  const fields = expression.trim().split(/\s+/);
  if (!expression.trim().startsWith('@') && fields.length !== 5) {
    return {
      ok: false,
      error: `invalid schedule ${JSON.stringify(expression)}: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    };
  }
  try {
    CronExpressionParser.parse(expression, { tz });
  } catch (err) {
    return { ok: false, error: `invalid schedule ${JSON.stringify(expression)}: ${(err as Error).message}` };
  }
  return {
    ok: true,
    next: (after) => CronExpressionParser.parse(expression, { tz, currentDate: after }).next().toDate(),
    // `prev` is strictly before its start, so start a millisecond after to include `atOrBefore` itself.
    latest: (atOrBefore) =>
      CronExpressionParser.parse(expression, { tz, currentDate: new Date(atOrBefore.getTime() + 1) })
        .prev()
        .toDate(),
  };
}

export type Due =
  { kind: 'none' } | { kind: 'run'; at: Date } | { kind: 'missed'; at: Date; lateSeconds: number };

/**
 * The scheduled time to act on now: the latest one after `last` (the previous scheduled time acted on,
 * or the schedule's creation) and not after `now`. Older missed times are never run: only the latest,
 * and only while no later than the starting deadline.
 */
export function dueTime(
  parsed: Extract<Parsed, { ok: true }>,
  last: Date,
  now: Date,
  deadlineSeconds: number,
): Due {
  const at = parsed.latest(now);
  if (at.getTime() <= last.getTime()) return { kind: 'none' };
  const lateSeconds = (now.getTime() - at.getTime()) / 1000;
  return lateSeconds > deadlineSeconds ? { kind: 'missed', at, lateSeconds } : { kind: 'run', at };
}

/** The KVBackup for scheduled time `at`: named after it, so a second pass (or operator) cannot make two. */
export function scheduledBackupName(schedule: string, at: Date): string {
  return `${schedule}-${Math.floor(at.getTime() / 60_000)}`;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** "36h", "7d", "1h30m" → seconds (the schema's DURATION_PATTERN). */
export function durationSeconds(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)([smhdw])/g))
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? ''] ?? 0);
  return total;
}

function finishedAt(b: KVBackup): number {
  return Date.parse(b.status?.completionTime ?? b.metadata.creationTimestamp?.toString() ?? '') || 0;
}

/**
 * The backups retention deletes: successful ones beyond keepLast or older than maxAge — but never the
 * newest successful one — and failed ones beyond failedHistoryLimit. Failures never push a good backup
 * out; running or pending ones are never touched.
 */
export function retentionVictims(
  backups: readonly KVBackup[],
  retention: KVBackupScheduleSpec['retention'],
  now: Date,
): KVBackup[] {
  const newestFirst = (a: KVBackup, b: KVBackup): number => finishedAt(b) - finishedAt(a);
  const succeeded = backups.filter((b) => b.status?.phase === 'Succeeded').sort(newestFirst);
  const failed = backups.filter((b) => b.status?.phase === 'Failed').sort(newestFirst);
  const victims: KVBackup[] = [];
  const maxAgeMs = retention?.maxAge !== undefined ? durationSeconds(retention.maxAge) * 1000 : undefined;
  succeeded.forEach((b, i) => {
    if (i === 0) return;
    const beyondCount = retention?.keepLast !== undefined && i >= retention.keepLast;
    const tooOld = maxAgeMs !== undefined && now.getTime() - finishedAt(b) > maxAgeMs;
    if (beyondCount || tooOld) victims.push(b);
  });
  victims.push(...failed.slice(retention?.failedHistoryLimit ?? 3));
  return victims;
}
