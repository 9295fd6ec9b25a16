// The node agent as a kubelet: what a pod spec asks for is what the process gets — images, env and
// the downward API, volumes, init containers, probes of every kind, restarts with back-off, and
// graceful termination — and a bad pod is reported on the pod, never a crash of the agent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apply,
  containerPid,
  createNamespace,
  deleteNamespace,
  eventsOf,
  getPod,
  isReady,
  kubectl,
  podLog,
  processAlive,
  waitFor,
  type EventJson,
  type PodJson,
} from '../framework/kube.js';

const NS = 'e2e-pods';

function pod(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec });
}

async function waitPhase(name: string, phases: string[], timeoutMs = 60_000): Promise<PodJson> {
  return waitFor(
    `pod ${name} in ${phases.join('/')}`,
    async () => {
      const p = await getPod(NS, name);
      return phases.includes(p.status.phase) ? p : undefined;
    },
    timeoutMs,
  );
}

const events = (name: string): Promise<EventJson[]> => eventsOf(NS, name);

describe('the node agent runs pods as the kubelet would', () => {
  before(() => createNamespace(NS));
  after(() => deleteNamespace(NS));

  it('reports an unknown image on the pod and keeps serving other pods', async () => {
    await apply(NS, pod('no-image', { containers: [{ name: 'c', image: 'registry.example/nothing:1' }] }));
    const waiting = await waitFor(
      'no-image waiting on its image',
      async () => {
        const p = await getPod(NS, 'no-image');
        const reason = p.status.containerStatuses?.[0]?.state.waiting?.reason;
        return reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? p : undefined;
      },
      30_000,
    );
    assert.equal(waiting.status.phase, 'Pending');
    const failed = (await events('no-image')).find((e) => e.reason === 'Failed');
    assert.match(failed?.message ?? '', /Failed to pull image "registry\.example\/nothing:1"/);
    await apply(
      NS,
      pod('after-bad', {
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'cairnctl', command: ['true'] }],
      }),
    );
    await waitPhase('after-bad', ['Succeeded']);
  });

  it('gives a container its env, downward API, ConfigMap, Secret, token and init container output', async () => {
    await apply(
      NS,
      [
        `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"conf"},"data":{"greeting":"hello","mode":"fast"}}`,
        `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds"},"stringData":{"password":"s3cret"}}`,
      ].join('\n'),
    );
    const script = [
      'echo "env $GREETING $CONF_mode $PASSWORD $POD_NAME $POD_NAMESPACE $POD_IP $COMBINED"',
      'echo "file $(cat /conf/greeting) $(cat /creds/password) $(cat /info/labels)"',
      'echo "token $(wc -c < /var/run/secrets/kubernetes.io/serviceaccount/token)"',
      'echo "ns $(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"',
      'echo "init $(cat /shared/from-init)"',
      'echo "whoami $(id -u) $(hostname) cwd $(pwd)"',
      'if touch /rootfs-probe 2>/dev/null; then echo "rootfs writable"; else echo "rootfs read-only"; fi',
    ].join('\n');
    await apply(
      NS,
      pod(
        'configured',
        {
          restartPolicy: 'Never',
          initContainers: [
            {
              name: 'init',
              image: 'cairnctl',
              command: ['sh', '-c', 'echo prepared > /shared/from-init'],
              volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
            },
          ],
          containers: [
            {
              name: 'main',
              image: 'cairnctl',
              workingDir: '/shared',
              securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true },
              command: ['sh', '-c', script],
              envFrom: [{ configMapRef: { name: 'conf' }, prefix: 'CONF_' }],
              env: [
                { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'conf', key: 'greeting' } } },
                { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'COMBINED', value: '$(POD_NAME)-$(GREETING)' },
              ],
              volumeMounts: [
                { name: 'conf', mountPath: '/conf' },
                { name: 'creds', mountPath: '/creds' },
                { name: 'info', mountPath: '/info' },
                { name: 'shared', mountPath: '/shared' },
              ],
            },
          ],
          volumes: [
            { name: 'conf', configMap: { name: 'conf' } },
            { name: 'creds', secret: { secretName: 'creds' } },
            {
              name: 'info',
              downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
            },
            { name: 'shared', emptyDir: {} },
          ],
        },
        { tier: 'e2e' },
      ),
    );
    const done = await waitPhase('configured', ['Succeeded', 'Failed']);
    const log = podLog(NS, 'configured', done.metadata.uid, 'main');
    assert.equal(done.status.phase, 'Succeeded', log);
    const ip = done.status.podIP ?? '';
    assert.match(
      log,
      new RegExp(
        `^env hello fast s3cret configured ${NS} ${ip.replace(/\./g, '\\.')} configured-hello$`,
        'm',
      ),
    );
    assert.match(log, /^file hello s3cret tier="e2e"$/m);
    assert.match(log, /^token [1-9]\d+$/m, 'a service account token from the TokenRequest API');
    assert.match(log, new RegExp(`^ns ${NS}$`, 'm'));
    assert.match(log, /^init prepared$/m, 'the init container ran first, into the shared emptyDir');
    assert.match(
      log,
      /^whoami 65532 configured cwd \/shared$/m,
      'the image user, the pod hostname, workingDir',
    );
    assert.match(log, /^rootfs read-only$/m, 'readOnlyRootFilesystem');
  });

  it('refuses to run a runAsNonRoot container as root', async () => {
    await apply(
      NS,
      pod('as-root', {
        securityContext: { runAsNonRoot: true },
        containers: [{ name: 'c', image: 'cairnctl', command: ['true'], securityContext: { runAsUser: 0 } }],
      }),
    );
    const refused = await waitFor(
      'as-root in CreateContainerConfigError',
      async () => {
        const p = await getPod(NS, 'as-root');
        return p.status.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError'
          ? p
          : undefined;
      },
      30_000,
    );
    assert.equal(refused.status.phase, 'Pending');
    const failed = (await events('as-root')).find((e) => e.reason === 'Failed');
    assert.match(failed?.message ?? '', /runAsNonRoot and image will run as root/);
  });

  it('runs startup (exec), readiness (exec, gRPC) and liveness (HTTP) probes, restarting on liveness failure', async () => {
    await apply(
      NS,
      pod('probed', {
        containers: [
          {
            name: 'ready-file',
            image: 'cairnctl',
            command: ['sh', '-c', 'sleep 2; touch /tmp/ready; sleep 3600'],
            readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
          },
          {
            name: 'server',
            image: 'cairn',
            args: [
              '--name=probed',
              '--data-dir=/data/m',
              '--listen-client-urls=http://0.0.0.0:2379',
              '--advertise-client-urls=http://127.0.0.1:2379',
            ],
            readinessProbe: { grpc: { port: 2379 }, periodSeconds: 1 },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
          {
            name: 'slow-start',
            image: 'cairnctl',
            command: ['sh', '-c', 'sleep 2; touch /tmp/started; sleep 3600'],
            startupProbe: {
              exec: { command: ['test', '-f', '/tmp/started'] },
              periodSeconds: 1,
              failureThreshold: 30,
            },
          },
          {
            name: 'doomed',
            image: 'cairnctl',
            command: ['sh', '-c', 'sleep 3600'],
            livenessProbe: { httpGet: { path: '/', port: 9 }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: 'data', emptyDir: {} }],
      }),
    );
    const restarted = await waitFor(
      'doomed restarted by its liveness probe, the others ready',
      async () => {
        const p = await getPod(NS, 'probed');
        const byName = new Map((p.status.containerStatuses ?? []).map((c) => [c.name, c]));
        const doomed = byName.get('doomed');
        return (doomed?.restartCount ?? 0) >= 1 &&
          byName.get('ready-file')?.ready === true &&
          byName.get('server')?.ready === true &&
          byName.get('slow-start')?.started === true &&
          byName.get('slow-start')?.ready === true
          ? p
          : undefined;
      },
      60_000,
    );
    const doomed = restarted.status.containerStatuses?.find((c) => c.name === 'doomed');
    assert.ok(doomed?.lastState.terminated !== undefined, 'the killed run is reported as lastState');
    const reasons = (await events('probed')).map((e) => `${e.reason}: ${e.message}`);
    assert.ok(
      reasons.some((r) => /^Unhealthy: Liveness probe failed/.test(r)),
      reasons.join('\n'),
    );
    assert.ok(
      reasons.some((r) => /^Killing: Container doomed failed liveness probe/.test(r)),
      reasons.join('\n'),
    );
    assert.ok(!isReady(restarted) || (restarted.status.containerStatuses ?? []).every((c) => c.ready));
  });

  it('backs off a crashing container and reports CrashLoopBackOff', async () => {
    await apply(
      NS,
      pod('crashing', {
        containers: [{ name: 'c', image: 'cairnctl', command: ['sh', '-c', 'echo crash; exit 2'] }],
      }),
    );
    const looping = await waitFor(
      'crashing in CrashLoopBackOff after a restart',
      async () => {
        const p = await getPod(NS, 'crashing');
        const c = p.status.containerStatuses?.[0];
        return c?.state.waiting?.reason === 'CrashLoopBackOff' && c.restartCount >= 1 ? p : undefined;
      },
      60_000,
    );
    const c = looping.status.containerStatuses?.[0];
    assert.equal(c?.lastState.terminated?.exitCode, 2);
    assert.equal(looping.status.phase, 'Running', 'a restarting pod is Running');
    assert.ok((await events('crashing')).some((e) => e.reason === 'BackOff'));
    // kubectl logs goes through the apiserver to the agent's kubelet API.
    assert.match(await kubectl(['logs', 'crashing', '-n', NS]), /^crash$/m);
    assert.match(await kubectl(['logs', 'crashing', '-n', NS, '--previous']), /^crash$/m);
    await assert.rejects(kubectl(['logs', 'crashing', '-n', NS, '--timestamps']), /without a time per line/);
  });

  it('stops a pod with SIGTERM, and SIGKILL once the grace period is over', async () => {
    await apply(
      NS,
      [
        pod('polite', {
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'c',
              image: 'cairnctl',
              command: [
                'sh',
                '-c',
                'trap "echo got TERM; exit 0" TERM; echo up; while :; do sleep 0.2; done',
              ],
            },
          ],
        }),
        pod('stubborn', {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'c',
              image: 'cairnctl',
              command: ['sh', '-c', 'trap "" TERM; echo up; while :; do sleep 0.2; done'],
            },
          ],
        }),
      ].join('\n'),
    );
    const polite = await waitPhase('polite', ['Running']);
    const stubborn = await waitPhase('stubborn', ['Running']);
    await waitFor(
      'both logging',
      () =>
        Promise.resolve(
          podLog(NS, 'polite', polite.metadata.uid, 'c').includes('up') &&
            podLog(NS, 'stubborn', stubborn.metadata.uid, 'c').includes('up')
            ? true
            : undefined,
        ),
      20_000,
    );
    const pids = [containerPid(polite, 'c'), containerPid(stubborn, 'c')];
    const started = Date.now();
    await kubectl(['delete', 'pod', 'polite', 'stubborn', '-n', NS, '--wait=true', '--timeout=60s']);
    const took = Date.now() - started;
    assert.match(podLog(NS, 'polite', polite.metadata.uid, 'c'), /got TERM/, 'the container saw SIGTERM');
    assert.ok(took >= 1_500, `the stubborn pod had its grace period (${took} ms)`);
    assert.ok(
      took < 25_000,
      `and was killed when it ran out (${took} ms), long before the polite pod's 30 s`,
    );
    for (const pid of pids) assert.ok(pid !== undefined && !processAlive(pid), `process ${pid} is gone`);
  });
});
