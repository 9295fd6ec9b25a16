import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Controller } from '../../../../operator/src/runtime/controller.js';
import type { Reconcile } from '../../../../operator/src/runtime/controller.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { newOperatorMetrics } from '../../../../operator/src/runtime/metrics.js';
import { WorkQueue } from '../../../../operator/src/runtime/work-queue.js';
import { FakeClock, settle } from './fake-clock.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function setup(reconcile: Reconcile, workers = 2, stopTimeoutMs = 1000) {
  const clock = new FakeClock();
  const registry = new Registry();
  const metrics = newOperatorMetrics(registry);
  const queue = new WorkQueue({ name: 'kvcluster', clock, metrics });
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as never);
  });
  const logger = newOperatorLogger({ stream, level: 'debug' });
  const controller = new Controller({
    name: 'kvcluster',
    queue,
    workers,
    reconcile,
    logger,
    metrics,
    clock,
    stopTimeoutMs,
  });
  const counter = async (name: string, labels: Record<string, string>) =>
    (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
      Object.entries(labels).every(([k, val]) => v.labels[k] === val),
    )?.value ?? 0;
  return { clock, queue, controller, lines, counter };
}

describe('Controller', () => {
  it('reconciles each added key and counts successes', async () => {
    const seen: string[] = [];
    const { queue, controller, counter } = setup(async (key) => {
      seen.push(key);
      return Promise.resolve({});
    });
    controller.start();
    queue.add('ns/a');
    queue.add('ns/b');
    await settle();
    assert.deepEqual(seen.sort(), ['ns/a', 'ns/b']);
    assert.equal(await counter('cairn_operator_reconcile_total', { result: 'success' }), 2);
    assert.equal(await controller.stop(), true);
  });

  it('never reconciles one key on two workers at once, and re-runs a key changed mid-reconcile', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const gate = deferred();
    const { queue, controller } = setup(async () => {
      calls++;
      active++;
      maxActive = Math.max(maxActive, active);
      if (calls === 1) await gate.promise;
      active--;
      return {};
    }, 4);
    controller.start();
    queue.add('ns/a');
    await settle();
    queue.add('ns/a'); // changed while the first reconcile runs
    queue.add('ns/a');
    await settle();
    assert.equal(calls, 1, 'the second pass waits for the first');
    gate.resolve();
    await settle();
    assert.equal(calls, 2, 'exactly one more pass for the changes made meanwhile');
    assert.equal(maxActive, 1);
    await controller.stop();
  });

  it('on error: logs the key, requeues with back-off, and forgets the back-off after a success', async () => {
    let failuresLeft = 2;
    const { queue, controller, clock, lines, counter } = setup(async () => {
      if (failuresLeft-- > 0) throw new Error('member unreachable');
      return Promise.resolve({});
    });
    controller.start();
    queue.add('prod/main');
    await settle();
    assert.equal(queue.numRequeues('prod/main'), 1);
    const failure = lines.find((l) => l['message'] === 'reconcile failed');
    assert.ok(failure, 'the failure is logged');
    assert.equal(failure['namespace'], 'prod');
    assert.equal(failure['name'], 'main');
    assert.equal(failure['controller'], 'kvcluster');
    assert.equal(failure['error'], 'member unreachable');
    await clock.advance(5); // first back-off: 5 ms
    assert.equal(queue.numRequeues('prod/main'), 2);
    await clock.advance(9);
    assert.equal(await counter('cairn_operator_reconcile_total', { result: 'error' }), 2);
    await clock.advance(1); // second back-off: 10 ms
    assert.equal(await counter('cairn_operator_reconcile_total', { result: 'success' }), 1);
    assert.equal(queue.numRequeues('prod/main'), 0, 'success forgets the back-off');
    assert.equal(await counter('cairn_operator_reconcile_errors_total', { controller: 'kvcluster' }), 2);
    await controller.stop();
  });

  it('requeueAfterMs schedules another pass after that delay', async () => {
    let calls = 0;
    const { queue, controller, clock, counter } = setup(async () => {
      calls++;
      return Promise.resolve(calls === 1 ? { requeueAfterMs: 30_000 } : {});
    });
    controller.start();
    queue.add('ns/a');
    await settle();
    assert.equal(calls, 1);
    await clock.advance(29_999);
    assert.equal(calls, 1);
    await clock.advance(1);
    assert.equal(calls, 2);
    assert.equal(await counter('cairn_operator_reconcile_total', { result: 'requeue' }), 1);
    assert.equal(await counter('cairn_operator_reconcile_total', { result: 'success' }), 1);
    await controller.stop();
  });

  it('stop() waits for running reconciles and takes no new keys', async () => {
    const gate = deferred();
    const started: string[] = [];
    const { queue, controller } = setup(async (key) => {
      started.push(key);
      await gate.promise;
      return {};
    }, 1);
    controller.start();
    queue.add('ns/a');
    queue.add('ns/b');
    await settle();
    let stopped: boolean | undefined;
    const stopping = controller.stop().then((v) => (stopped = v));
    await settle();
    assert.equal(stopped, undefined, 'stop waits for the reconcile in flight');
    gate.resolve();
    await stopping;
    assert.equal(stopped, true);
    assert.deepEqual(started, ['ns/a'], 'queued keys are not started after stop');
  });

  it('stop() gives up after stopTimeoutMs when a reconcile hangs', async () => {
    const { queue, controller, clock } = setup(() => new Promise<never>(() => undefined), 1, 500);
    controller.start();
    queue.add('ns/a');
    await settle();
    let stopped: boolean | undefined;
    const stopping = controller.stop().then((v) => (stopped = v));
    await clock.advance(499);
    assert.equal(stopped, undefined);
    await clock.advance(1);
    await stopping;
    assert.equal(stopped, false);
    assert.equal(clock.pendingTimers, 0);
  });

  it('validates workers', () => {
    assert.throws(() => setup(() => Promise.resolve({}), 0), /workers/);
  });
});
