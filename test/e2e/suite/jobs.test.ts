// Jobs and CronJobs run through the same pod path as everything else: a Job's pod runs to
// completion (Succeeded, exit 0, its output in the log), a failing Job is retried up to its backoffLimit
// and then Failed, and a CronJob's schedule fires a Job that completes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apply,
  createNamespace,
  deleteNamespace,
  getJson,
  kubectl,
  listPods,
  podLog,
  waitFor,
} from '../framework/kube.js';

const NS = 'e2e-jobs';

interface JobJson {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
  status: { succeeded?: number; failed?: number; conditions?: { type: string; status: string }[] };
}

function job(name: string, script: string, backoffLimit: number): string {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      backoffLimit,
      template: {
        metadata: { labels: { job: name } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'work', image: 'cairnctl', command: ['sh', '-c', script] }],
        },
      },
    },
  });
}

function condition(j: JobJson, type: string): boolean {
  return j.status.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

describe('Jobs and CronJobs', () => {
  before(() => createNamespace(NS));
  after(() => deleteNamespace(NS));

  it('runs a Job to completion', async () => {
    await apply(NS, job('once', 'cairnctl version; echo "job done"', 0));
    const done = await waitFor(
      'Job once Complete',
      async () => {
        const j = await getJson<JobJson>(['get', 'job', 'once', '-n', NS]);
        return condition(j, 'Complete') ? j : undefined;
      },
      60_000,
    );
    assert.equal(done.status.succeeded, 1);
    const [pod] = await listPods(NS, 'job=once');
    assert.ok(pod !== undefined);
    assert.equal(pod.status.phase, 'Succeeded');
    assert.equal(pod.status.containerStatuses?.[0]?.state.terminated?.exitCode, 0);
    assert.equal(pod.status.containerStatuses?.[0]?.state.terminated?.reason, 'Completed');
    assert.match(podLog(NS, pod.metadata.name, pod.metadata.uid, 'work'), /job done/);
    assert.match(await kubectl(['logs', 'job/once', '-n', NS, '--tail=1']), /^job done\n$/);
  });

  it('retries a failing Job up to its backoffLimit, then fails it', async () => {
    await apply(NS, job('fails', 'echo "failing on purpose"; exit 3', 1));
    const failed = await waitFor(
      'Job fails Failed',
      async () => {
        const j = await getJson<JobJson>(['get', 'job', 'fails', '-n', NS]);
        return condition(j, 'Failed') ? j : undefined;
      },
      120_000,
    );
    assert.equal(failed.status.failed, 2, 'one run and one retry');
    const pods = await listPods(NS, 'job=fails');
    assert.equal(pods.length, 2);
    for (const pod of pods) {
      assert.equal(pod.status.phase, 'Failed');
      assert.equal(pod.status.containerStatuses?.[0]?.state.terminated?.exitCode, 3);
      assert.equal(pod.status.containerStatuses?.[0]?.state.terminated?.reason, 'Error');
    }
  });

  it('completes a Job whose pod has a sidecar, stopping the sidecar', async () => {
    await apply(
      NS,
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'with-sidecar' },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { job: 'with-sidecar' } },
            spec: {
              restartPolicy: 'Never',
              // A native sidecar: an init container with restartPolicy Always keeps running beside the main
              // container and is stopped once the main container has finished.
              initContainers: [
                {
                  name: 'sidecar',
                  image: 'cairnctl',
                  restartPolicy: 'Always',
                  command: [
                    'sh',
                    '-c',
                    'trap "echo sidecar stopped; exit 0" TERM; echo sidecar up; while :; do sleep 0.2; done',
                  ],
                },
              ],
              containers: [
                { name: 'work', image: 'cairnctl', command: ['sh', '-c', 'echo working; sleep 1'] },
              ],
            },
          },
        },
      }),
    );
    await waitFor(
      'Job with-sidecar Complete',
      async () => {
        const j = await getJson<JobJson>(['get', 'job', 'with-sidecar', '-n', NS]);
        return condition(j, 'Complete') ? j : undefined;
      },
      60_000,
    );
    const [pod] = await listPods(NS, 'job=with-sidecar');
    assert.ok(pod !== undefined);
    assert.equal(pod.status.phase, 'Succeeded');
    const sidecarLog = await waitFor(
      'the sidecar stopped',
      () => {
        const log = podLog(NS, pod.metadata.name, pod.metadata.uid, 'sidecar');
        return Promise.resolve(log.includes('sidecar stopped') ? log : undefined);
      },
      20_000,
    );
    assert.match(sidecarLog, /^sidecar up$/m);
  });

  it('fires a CronJob on its schedule', async () => {
    await apply(
      NS,
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'tick' },
        spec: {
          schedule: '* * * * *',
          successfulJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  restartPolicy: 'OnFailure',
                  containers: [{ name: 'tick', image: 'cairnctl', command: ['sh', '-c', 'echo tick'] }],
                },
              },
            },
          },
        },
      }),
    );
    // Every minute on the minute: at most ~60 s to the first run, then a few seconds to complete.
    const fired = await waitFor(
      'a Job of CronJob tick to complete',
      async () => {
        const jobs = await getJson<{ items: JobJson[] }>(['get', 'jobs', '-n', NS]);
        return jobs.items.find(
          (j) =>
            j.metadata.ownerReferences?.some((o) => o.kind === 'CronJob' && o.name === 'tick') &&
            condition(j, 'Complete'),
        );
      },
      100_000,
      1_000,
    );
    assert.match(fired.metadata.name, /^tick-\d+$/);
    const cron = await waitFor(
      'CronJob tick to record its success',
      async () => {
        const c = await getJson<{ status: { lastScheduleTime?: string; lastSuccessfulTime?: string } }>([
          'get',
          'cronjob',
          'tick',
          '-n',
          NS,
        ]);
        return c.status.lastSuccessfulTime !== undefined ? c : undefined;
      },
      30_000,
    );
    assert.ok(cron.status.lastScheduleTime !== undefined);
  });
});
