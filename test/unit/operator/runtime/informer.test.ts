import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCallback, KubernetesObject, ObjectCallback } from '@kubernetes/client-node';
import {
  labelKey,
  ownerKey,
  ResourceInformer,
  RESTART_BACKOFF_RESET_MS,
} from '../../../../operator/src/runtime/informer.js';
import type { InformerEvent, InformerSource } from '../../../../operator/src/runtime/informer.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { FakeClock, settle } from './fake-clock.js';

type Verb = 'add' | 'update' | 'delete' | 'change' | 'error' | 'connect';

/**
 * Behaves like client-node 1.4's ListWatch where it matters here: `start()` lists (or fails, calling the
 * error callbacks and resolving), and after an error nothing happens until `start()` is called again.
 */
class FakeListWatch implements InformerSource<KubernetesObject> {
  readonly objects = new Map<string, KubernetesObject>();
  /** What each start() does: fail, or list these objects. */
  readonly script: ('fail' | KubernetesObject[])[] = [];
  starts = 0;
  readonly #callbacks = new Map<Verb, ((arg: never) => void)[]>();

  on(verb: 'add' | 'update' | 'delete' | 'change', cb: ObjectCallback<KubernetesObject>): void;
  on(verb: 'error' | 'connect', cb: ErrorCallback): void;
  on(verb: Verb, cb: (arg: never) => void): void {
    this.#callbacks.set(verb, [...(this.#callbacks.get(verb) ?? []), cb]);
  }

  off(): void {}

  emit(verb: Verb, arg: unknown): void {
    for (const cb of this.#callbacks.get(verb) ?? []) cb(arg as never);
  }

  async start(): Promise<void> {
    this.starts++;
    await Promise.resolve();
    const step = this.script.shift() ?? [];
    if (step === 'fail') {
      this.emit('error', new Error('connect ECONNREFUSED 10.96.0.1:443'));
      return;
    }
    for (const obj of step) {
      const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
      const known = this.objects.has(key);
      this.objects.set(key, obj);
      this.emit(known ? 'update' : 'add', obj);
    }
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  get(name: string, namespace?: string): KubernetesObject | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  list(): readonly KubernetesObject[] {
    return [...this.objects.values()];
  }
}

const obj = (name: string): KubernetesObject => ({ metadata: { namespace: 'prod', name } });

function setup() {
  const clock = new FakeClock();
  const source = new FakeListWatch();
  const seen: [string, InformerEvent][] = [];
  const informer = new ResourceInformer({
    name: 'kvclusters',
    source,
    clock,
    logger: newOperatorLogger({ silent: true }),
    handler: (o, event) => seen.push([o.metadata?.name ?? '', event]),
    restartBackoffBaseMs: 1_000,
    restartBackoffMaxMs: 4_000,
  });
  let synced = false;
  void informer.synced.then(() => (synced = true));
  return { clock, source, informer, seen, isSynced: () => synced };
}

describe('ResourceInformer', () => {
  it('restarts a failed list/watch with back-off and reports synced after the first good list', async () => {
    const { clock, source, informer, seen, isSynced } = setup();
    source.script.push('fail', 'fail', [obj('main')]);
    informer.start();
    await settle();
    assert.equal(source.starts, 1);
    assert.equal(isSynced(), false);
    await clock.advance(999);
    assert.equal(source.starts, 1);
    await clock.advance(1);
    assert.equal(source.starts, 2, 'restarted after 1 s');
    await clock.advance(1_999);
    assert.equal(source.starts, 2);
    await clock.advance(1);
    assert.equal(source.starts, 3, 'then after 2 s');
    assert.equal(isSynced(), true);
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(seen, [['main', 'add']]);
    assert.equal(informer.get('main', 'prod')?.metadata?.name, 'main');
    assert.equal(informer.list().length, 1);
    await informer.stop();
  });

  it('restarts after an error on a running watch, resetting the back-off once it ran long enough', async () => {
    const { clock, source, informer, seen } = setup();
    source.script.push([obj('a')]);
    informer.start();
    await settle();
    await clock.advance(RESTART_BACKOFF_RESET_MS);
    source.script.push([obj('a'), obj('b')]);
    source.emit('error', new Error('watch connection reset'));
    await clock.advance(1_000);
    assert.equal(source.starts, 2, 'first back-off again after a long healthy run');
    assert.deepEqual(seen, [
      ['a', 'add'],
      ['a', 'update'],
      ['b', 'add'],
    ]);
    source.emit('error', new Error('again'));
    source.emit('error', new Error('and again')); // one restart scheduled, not two
    await clock.advance(2_000);
    assert.equal(source.starts, 3);
    await informer.stop();
  });

  it('stop() cancels a pending restart and leaves no timer', async () => {
    const { clock, source, informer } = setup();
    source.script.push('fail');
    informer.start();
    await settle();
    assert.equal(clock.pendingTimers, 1);
    await informer.stop();
    assert.equal(clock.pendingTimers, 0);
    await clock.advance(10_000);
    assert.equal(source.starts, 1);
  });

  it('a throwing handler is logged, not fatal to the informer', async () => {
    const clock = new FakeClock();
    const source = new FakeListWatch();
    const informer = new ResourceInformer({
      name: 'pods',
      source,
      clock,
      logger: newOperatorLogger({ silent: true }),
      handler: () => {
        throw new Error('bug');
      },
    });
    source.script.push([obj('a')]);
    informer.start();
    await informer.synced;
    assert.equal(informer.list().length, 1);
    await informer.stop();
  });
});

describe('ownerKey / labelKey', () => {
  const pod: KubernetesObject = {
    metadata: {
      namespace: 'prod',
      name: 'main-0',
      labels: { 'cairn.dev/cluster': 'main' },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'not-controller', uid: 'u0' },
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'main', uid: 'u1', controller: true },
      ],
    },
  };

  it('maps an object to its controlling owner of a kind', () => {
    assert.equal(ownerKey(pod, 'StatefulSet'), 'prod/main');
    assert.equal(ownerKey(pod, 'ConfigMap'), undefined, 'only the controlling reference counts');
    assert.equal(ownerKey(pod, 'KVCluster'), undefined);
    assert.equal(ownerKey({ metadata: { name: 'x' } }, 'KVCluster'), undefined);
  });

  it('maps an object to the key named by a label', () => {
    assert.equal(labelKey(pod, 'cairn.dev/cluster'), 'prod/main');
    assert.equal(labelKey(pod, 'cairn.dev/missing'), undefined);
  });
});
