// The KVBackupSchedule reconciler on an in-memory API: a due time makes one KVBackup (labelled, not
// owned), a time due while the last backup runs is skipped, success sets lastSuccessfulTime, retention
// deletes, suspend and a bad schedule make nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  KVBackupSchedule,
  KVBackupScheduleSpec,
} from '../../../../../operator/src/api/v1alpha1/index.js';
import { KVBackupScheduleReconciler } from '../../../../../operator/src/controllers/kvbackupschedule/reconciler.js';
import { newOperatorLogger } from '../../../../../operator/src/runtime/logger.js';
import { FakeBackupKube } from '../kvbackup/fakes.js';

const log = newOperatorLogger({ level: 'error' });

function setup(spec: Partial<KVBackupScheduleSpec> = {}) {
  const kube = new FakeBackupKube();
  const events: string[] = [];
  let now = new Date('2026-11-21T10:00:30Z');
  const schedule: KVBackupSchedule = {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVBackupSchedule',
    metadata: {
      name: 'every',
      namespace: 'ns',
      uid: 'uid-s',
      creationTimestamp: new Date('2026-11-21T09:59:00Z'),
    },
    spec: {
      clusterName: 'kv',
      schedule: '* * * * *',
      template: { destination: { volume: { claimName: 'backups' } }, deletionPolicy: 'Delete' },
      ...spec,
    },
  };
  kube.schedules.set('ns/every', schedule);
  const reconciler = new KVBackupScheduleReconciler({
    kube,
    events: {
      normal: (_o, reason, message) => events.push(`${reason}: ${message}`),
      warning: (_o, reason, message) => events.push(`${reason}: ${message}`),
    },
    now: () => now,
  });
  return {
    kube,
    events,
    reconciler,
    schedule,
    advance: (iso: string) => {
      now = new Date(iso);
    },
  };
}

describe('KVBackupSchedule reconciler', () => {
  it('creates one KVBackup per scheduled time, labelled with its schedule and not owned by it', async () => {
    const { kube, reconciler, schedule } = setup();
    const r = await reconciler.reconcile('ns/every', log);
    const names = [...kube.backups.keys()];
    assert.deepEqual(names, ['ns/every-29920920']);
    const b = kube.backups.get('ns/every-29920920');
    assert.equal(b?.metadata.labels?.['cairn.dev/schedule'], 'every');
    assert.equal(b?.metadata.ownerReferences, undefined);
    assert.deepEqual(b?.spec, {
      clusterName: 'kv',
      destination: { volume: { claimName: 'backups' } },
      deletionPolicy: 'Delete',
    });
    assert.equal(schedule.status?.active, 'every-29920920');
    assert.equal(schedule.status?.lastScheduleTime, '2026-11-21T10:00:00Z');
    assert.equal(schedule.status?.nextScheduleTime, '2026-11-21T10:01:00Z');
    assert.ok((r.requeueAfterMs ?? 0) > 0 && (r.requeueAfterMs ?? 0) <= 30_000);
    await reconciler.reconcile('ns/every', log);
    assert.equal(kube.backups.size, 1, 'the same time is not run twice');
  });

  it('skips a time that comes while the last backup still runs, and records success when it ends', async () => {
    const { kube, reconciler, schedule, events, advance } = setup();
    await reconciler.reconcile('ns/every', log);
    const first = kube.backups.get('ns/every-29920920');
    if (first !== undefined) first.status = { phase: 'Running' };
    advance('2026-11-21T10:01:10Z');
    await reconciler.reconcile('ns/every', log);
    assert.equal(kube.backups.size, 1);
    assert.ok(
      events.includes(
        'BackupSkipped: skipped the backup of 2026-11-21T10:01:00Z: every-29920920 is still running',
      ),
    );
    if (first !== undefined) first.status = { phase: 'Succeeded', completionTime: '2026-11-21T10:01:20Z' };
    advance('2026-11-21T10:02:05Z');
    await reconciler.reconcile('ns/every', log);
    assert.equal(schedule.status?.lastSuccessfulTime, '2026-11-21T10:01:20Z');
    assert.equal(schedule.status?.active, 'every-29920922');
    assert.equal(kube.backups.size, 2);
  });

  it('deletes what retention says, with an Event each', async () => {
    const { kube, reconciler, events, advance } = setup({ retention: { keepLast: 2 } });
    for (let i = 0; i < 4; i++) {
      advance(`2026-11-21T10:0${i}:05Z`);
      await reconciler.reconcile('ns/every', log);
      for (const b of kube.backups.values())
        if (b.status === undefined)
          b.status = { phase: 'Succeeded', completionTime: `2026-11-21T10:0${i}:10Z` };
    }
    advance('2026-11-21T10:04:30Z');
    await reconciler.reconcile('ns/every', log);
    assert.deepEqual(kube.deletedBackups.sort(), ['every-29920920', 'every-29920921']);
    assert.ok(events.some((e) => e.startsWith('BackupPruned: deleted every-29920920 (Succeeded')));
  });

  it('makes nothing while suspended, and says what is wrong with a bad schedule', async () => {
    const suspended = setup({ suspend: true });
    await suspended.reconciler.reconcile('ns/every', log);
    assert.equal(suspended.kube.backups.size, 0);
    const bad = setup({ schedule: '* * *' });
    const r = await bad.reconciler.reconcile('ns/every', log);
    assert.equal(bad.kube.backups.size, 0);
    assert.match(bad.schedule.status?.message ?? '', /^invalid schedule "\* \* \*"/);
    assert.ok(bad.events.some((e) => e.startsWith('InvalidSchedule:')));
    assert.equal(r.requeueAfterMs, undefined);
  });

  it('reports a scheduled time missed beyond the starting deadline, and runs the next one', async () => {
    const { kube, reconciler, events, advance, schedule } = setup({
      schedule: '0 * * * *',
      startingDeadlineSeconds: 60,
    });
    advance('2026-11-21T11:05:00Z');
    await reconciler.reconcile('ns/every', log);
    assert.equal(kube.backups.size, 0);
    assert.ok(
      events.some((e) => /^MissedSchedule: missed the backup of 2026-11-21T11:00:00Z by 300 s/.test(e)),
    );
    advance('2026-11-21T12:00:20Z');
    await reconciler.reconcile('ns/every', log);
    assert.equal(kube.backups.size, 1);
    assert.equal(schedule.status?.message, undefined, 'the message goes once it no longer holds');
  });
});
