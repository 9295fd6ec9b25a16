import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import {
  componentLogger,
  newOperatorLogger,
  reconcileLogger,
} from '../../../../operator/src/runtime/logger.js';
import type { LogLevel } from '../../../../operator/src/runtime/logger.js';

function capture(level: LogLevel) {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n'))
      if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  return { logger: newOperatorLogger({ level, stream }), lines };
}

describe('operator logger', () => {
  it('writes JSON lines with timestamp, level, component, and namespace/name for a reconcile', async () => {
    const { logger, lines } = capture('info');
    const controller = componentLogger(logger, 'kvcluster-controller');
    reconcileLogger(controller, 'prod/main').info('scaled', { replicas: 3 });
    logger.info('plain');
    await new Promise((r) => setImmediate(r));
    const [line, plain] = lines;
    assert.ok(line && plain);
    assert.equal(line['level'], 'info');
    assert.equal(line['message'], 'scaled');
    assert.equal(line['component'], 'kvcluster-controller');
    assert.equal(line['namespace'], 'prod');
    assert.equal(line['name'], 'main');
    assert.equal(line['replicas'], 3);
    assert.ok(!Number.isNaN(Date.parse(String(line['timestamp']))));
    assert.equal(plain['component'], 'cairn-operator');
  });

  it('honours the level option', async () => {
    const { logger, lines } = capture('warn');
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      lines.map((l) => l['message']),
      ['shown'],
    );
  });

  it('keeps a malformed key instead of failing', async () => {
    const { logger, lines } = capture('info');
    reconcileLogger(logger, 'a/b/c').info('x');
    await new Promise((r) => setImmediate(r));
    assert.equal(lines[0]?.['key'], 'a/b/c');
  });
});
