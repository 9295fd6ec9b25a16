// Backup schedules: cron in a time zone (across a daylight-saving change), the due time with missed runs
// and the starting deadline, deterministic backup names, durations, and retention.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KVBackup } from '../../../../../operator/src/api/v1alpha1/index.js';
import {
  dueTime,
  durationSeconds,
  parseSchedule,
  retentionVictims,
  scheduledBackupName,
} from '../../../../../operator/src/controllers/kvbackupschedule/schedule.js';

const at = (iso: string): Date => new Date(iso);

function ok(expr: string, tz?: string) {
  const p = parseSchedule(expr, tz);
  assert.ok(p.ok, p.ok ? '' : p.error);
  return p;
}

function done(name: string, phase: 'Succeeded' | 'Failed', completionTime: string): KVBackup {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVBackup',
    metadata: { name, namespace: 'ns' },
    spec: { clusterName: 'kv', destination: { volume: { claimName: 'b' } } },
    status: { phase, completionTime },
  };
}

describe('backup schedules', () => {
  it('reports a bad cron expression or time zone in words', () => {
    const bad = parseSchedule('61 * * * *', undefined);
    assert.ok(!bad.ok && /^invalid schedule "61 \* \* \* \*": .*0-59/.test(bad.error), JSON.stringify(bad));
    const zone = parseSchedule('0 * * * *', 'Mars/Base');
    assert.deepEqual(zone, { ok: false, error: 'unknown time zone "Mars/Base"' });
  });

  it('runs at the wall-clock time of its zone, across a daylight-saving change', () => {
    const p = ok('0 3 * * *', 'Europe/Berlin');
    assert.equal(p.next(at('2026-03-28T12:00:00Z')).toISOString(), '2026-03-29T01:00:00.000Z', '03:00 CEST');
    assert.equal(p.next(at('2026-03-27T12:00:00Z')).toISOString(), '2026-03-28T02:00:00.000Z', '03:00 CET');
    assert.equal(ok('@daily').next(at('2026-11-21T10:00:00Z')).toISOString(), '2026-11-22T00:00:00.000Z');
  });

  it('is due for the latest scheduled time since the last one, once', () => {
    const p = ok('*/10 * * * *');
    const last = at('2026-11-21T10:00:00Z');
    assert.deepEqual(dueTime(p, last, at('2026-11-21T10:09:59Z'), 300), { kind: 'none' });
    assert.deepEqual(dueTime(p, last, at('2026-11-21T10:10:00Z'), 300), {
      kind: 'run',
      at: at('2026-11-21T10:10:00Z'),
    });
    assert.deepEqual(dueTime(p, at('2026-11-21T10:10:00Z'), at('2026-11-21T10:12:00Z'), 300), {
      kind: 'none',
    });
  });

  it('runs only the latest of several missed times, and only within the starting deadline', () => {
    const p = ok('*/10 * * * *');
    const last = at('2026-11-21T10:00:00Z');
    // Down from 10:05 to 10:43: 10:10, 10:20, 10:30 and 10:40 were missed; 10:40 is 3 minutes late.
    assert.deepEqual(dueTime(p, last, at('2026-11-21T10:43:00Z'), 300), {
      kind: 'run',
      at: at('2026-11-21T10:40:00Z'),
    });
    assert.deepEqual(dueTime(p, last, at('2026-11-21T10:49:00Z'), 300), {
      kind: 'missed',
      at: at('2026-11-21T10:40:00Z'),
      lateSeconds: 540,
    });
  });

  it('names a scheduled backup after its time, so it is made once', () => {
    assert.equal(scheduledBackupName('nightly', at('2026-11-21T10:40:00Z')), 'nightly-29920960');
  });

  it('reads durations with days and weeks', () => {
    assert.equal(durationSeconds('90m'), 5_400);
    assert.equal(durationSeconds('1d12h'), 129_600);
    assert.equal(durationSeconds('2w'), 1_209_600);
  });

  it('keeps the newest keepLast good backups; failures never push one out', () => {
    const backups = [
      done('b1', 'Succeeded', '2026-11-21T10:01:00Z'),
      done('b2', 'Succeeded', '2026-11-21T10:02:00Z'),
      done('b3', 'Failed', '2026-11-21T10:03:00Z'),
      done('b4', 'Failed', '2026-11-21T10:04:00Z'),
      done('b5', 'Succeeded', '2026-11-21T10:05:00Z'),
      { ...done('b6', 'Succeeded', ''), status: { phase: 'Running' as const } },
    ];
    const names = (r: Parameters<typeof retentionVictims>[1]) =>
      retentionVictims(backups, r, at('2026-11-21T10:06:00Z'))
        .map((b) => b.metadata.name)
        .sort();
    assert.deepEqual(names({ keepLast: 2 }), ['b1']);
    assert.deepEqual(names({ keepLast: 2, failedHistoryLimit: 1 }), ['b1', 'b3']);
    assert.deepEqual(names({ keepLast: 5, failedHistoryLimit: 0 }), ['b3', 'b4']);
  });

  it('deletes good backups older than maxAge, but never the newest', () => {
    const backups = [
      done('old', 'Succeeded', '2026-11-01T00:00:00Z'),
      done('older', 'Succeeded', '2026-10-01T00:00:00Z'),
    ];
    const now = at('2026-11-21T00:00:00Z');
    assert.deepEqual(
      retentionVictims(backups, { maxAge: '7d' }, now).map((b) => b.metadata.name),
      ['older'],
    );
  });
});
