import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import type { CoreV1Api, CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import {
  EventRecorder,
  EVENT_MESSAGE_CHARS_MAX,
  KubernetesEventSink,
} from '../../../../operator/src/runtime/events.js';
import type { EventRepeatPatch, EventSink } from '../../../../operator/src/runtime/events.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { FakeClock } from './fake-clock.js';

/** Events kept in memory by namespace/name, like the API server would. */
class FakeEventSink implements EventSink {
  readonly events = new Map<string, CoreV1Event>();
  creates = 0;
  patches = 0;
  failCreates = false;

  create(namespace: string, event: CoreV1Event): Promise<void> {
    this.creates++;
    if (this.failCreates) return Promise.reject(new Error('forbidden: events is forbidden'));
    this.events.set(`${namespace}/${event.metadata.name}`, structuredClone(event));
    return Promise.resolve();
  }

  patch(namespace: string, name: string, patch: EventRepeatPatch): Promise<boolean> {
    this.patches++;
    const e = this.events.get(`${namespace}/${name}`);
    if (e === undefined) return Promise.resolve(false);
    e.count = patch.count;
    e.lastTimestamp = new Date(patch.lastTimestamp);
    e.message = patch.message;
    return Promise.resolve(true);
  }

  list(): CoreV1Event[] {
    return [...this.events.values()];
  }
}

const cluster: KubernetesObject = {
  apiVersion: 'cairn.dev/v1alpha1',
  kind: 'KVCluster',
  metadata: { namespace: 'prod', name: 'main', uid: 'u-1', resourceVersion: '42' },
};

function setup(cacheEntriesMax?: number) {
  const sink = new FakeEventSink();
  const clock = new FakeClock();
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(c.toString()));
  const recorder = new EventRecorder({
    sink,
    clock,
    host: 'op-0',
    logger: newOperatorLogger({ stream }),
    cacheEntriesMax,
  });
  return { sink, clock, recorder, lines };
}

describe('EventRecorder', () => {
  it('creates an Event referencing the object, from cairn-operator', async () => {
    const { sink, recorder, clock } = setup();
    recorder.normal(cluster, 'MemberAdded', 'added learner main-3');
    await recorder.flush();
    const [e] = sink.list();
    assert.ok(e);
    assert.equal(e.metadata.namespace, 'prod');
    assert.match(e.metadata.name ?? '', /^main\.[0-9a-f]+$/);
    assert.deepEqual(e.involvedObject, {
      apiVersion: 'cairn.dev/v1alpha1',
      kind: 'KVCluster',
      namespace: 'prod',
      name: 'main',
      uid: 'u-1',
      resourceVersion: '42',
    });
    assert.equal(e.type, 'Normal');
    assert.equal(e.reason, 'MemberAdded');
    assert.equal(e.message, 'added learner main-3');
    assert.equal(e.count, 1);
    assert.deepEqual(e.source, { component: 'cairn-operator', host: 'op-0' });
    assert.equal(e.reportingComponent, 'cairn-operator');
    assert.equal(e.firstTimestamp?.getTime(), clock.now());
  });

  it('folds repeats into count and lastTimestamp; a different message or type is a new Event', async () => {
    const { sink, recorder, clock } = setup();
    const firstMs = clock.now();
    recorder.warning(cluster, 'QuorumLost', '1/3 voters healthy');
    recorder.warning(cluster, 'QuorumLost', '1/3 voters healthy'); // before the first create returns
    await clock.advance(5_000);
    recorder.warning(cluster, 'QuorumLost', '1/3 voters healthy');
    recorder.warning(cluster, 'QuorumLost', '2/3 voters healthy');
    recorder.normal(cluster, 'QuorumLost', '1/3 voters healthy');
    await recorder.flush();
    assert.equal(sink.creates, 3);
    const repeated = sink.list().find((e) => e.type === 'Warning' && e.message === '1/3 voters healthy');
    assert.ok(repeated);
    assert.equal(repeated.count, 3);
    assert.equal(repeated.firstTimestamp?.getTime(), firstMs);
    assert.equal(repeated.lastTimestamp?.getTime(), firstMs + 5_000);
  });

  it('names the part of the object an Event is about, and keeps events of different parts apart', async () => {
    const { sink, recorder } = setup();
    const pod: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'prod', name: 'kv-0', uid: 'p-1' },
    };
    recorder.warning(pod, 'BackOff', 'Back-off restarting failed container'); // the pod as a whole
    recorder.event(
      pod,
      'Warning',
      'BackOff',
      'Back-off restarting failed container',
      'spec.containers{cairn}',
    );
    recorder.event(
      pod,
      'Warning',
      'BackOff',
      'Back-off restarting failed container',
      'spec.containers{cairn}',
    );
    await recorder.flush();
    assert.equal(sink.creates, 2);
    const ofContainer = sink.list().find((e) => e.involvedObject.fieldPath === 'spec.containers{cairn}');
    assert.equal(ofContainer?.count, 2);
    assert.equal(sink.list().filter((e) => e.involvedObject.fieldPath === undefined).length, 1);
  });

  it('starts a new Event when the old one expired', async () => {
    const { sink, recorder } = setup();
    recorder.normal(cluster, 'Scaled', 'to 3');
    await recorder.flush();
    sink.events.clear(); // the API server's event TTL
    recorder.normal(cluster, 'Scaled', 'to 3');
    await recorder.flush();
    assert.equal(sink.creates, 2);
    assert.equal(sink.list()[0]?.count, 1);
  });

  it('remembers a bounded number of events, forgetting the least recently used', async () => {
    const { sink, recorder } = setup(2);
    recorder.normal(cluster, 'A', 'a');
    recorder.normal(cluster, 'B', 'b');
    recorder.normal(cluster, 'A', 'a'); // A is now the most recent
    recorder.normal(cluster, 'C', 'c'); // evicts B
    await recorder.flush();
    assert.equal(sink.creates, 3);
    recorder.normal(cluster, 'A', 'a');
    recorder.normal(cluster, 'B', 'b');
    await recorder.flush();
    assert.equal(sink.creates, 4, 'B was forgotten and is created again');
    assert.equal(sink.list().find((e) => e.reason === 'A')?.count, 3);
  });

  it('never throws into the caller: sink failures and unreferenceable objects are logged', async () => {
    const { sink, recorder, lines } = setup();
    sink.failCreates = true;
    assert.doesNotThrow(() => recorder.warning(cluster, 'BackupFailed', 'x'));
    assert.doesNotThrow(() => recorder.normal({ metadata: { name: 'no-kind' } }, 'X', 'y'));
    await recorder.flush();
    assert.equal(sink.list().length, 0);
    const logged = lines
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, string>);
    const writeFailure = logged.find((l) => l['message'] === 'could not write event');
    assert.match(writeFailure?.['error'] ?? '', /forbidden/);
    assert.equal(writeFailure?.['level'], 'warn');
    const dropped = logged.find((l) => l['message'] === 'event not recorded');
    assert.match(dropped?.['error'] ?? '', /apiVersion, kind/);
  });

  it('truncates messages to what the API server accepts and puts cluster-scoped objects in default', async () => {
    const { sink, recorder } = setup();
    recorder.normal({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }, 'Big', 'x'.repeat(5000));
    await recorder.flush();
    const [e] = sink.list();
    assert.equal(e?.metadata.namespace, 'default');
    assert.equal(e?.message?.length, EVENT_MESSAGE_CHARS_MAX);
  });
});

describe('KubernetesEventSink', () => {
  interface PatchOptions {
    middleware: { pre(req: { setHeaderParam(k: string, v: string): void }): unknown }[];
  }

  it('patches repeats as a JSON merge patch and reports a vanished Event as false', async () => {
    const headers: Record<string, string> = {};
    let status = 200;
    let body: unknown;
    const api = {
      patchNamespacedEvent: async (p: { body: unknown }, opts: PatchOptions) => {
        body = p.body;
        for (const m of opts.middleware) m.pre({ setHeaderParam: (k, v) => (headers[k] = v) });
        await Promise.resolve();
        if (status !== 200) throw new ApiException(status, 'HTTP error', {}, {});
        return {};
      },
    } as unknown as CoreV1Api;
    const sink = new KubernetesEventSink(api);
    const patch = { count: 2, lastTimestamp: '2026-01-01T00:00:00.000Z', message: 'm' };
    assert.equal(await sink.patch('prod', 'main.1', patch), true);
    assert.equal(headers['Content-Type'], 'application/merge-patch+json');
    assert.deepEqual(body, patch);
    status = 404;
    assert.equal(await sink.patch('prod', 'main.1', patch), false);
    status = 403;
    await assert.rejects(sink.patch('prod', 'main.1', patch), ApiException);
  });
});
