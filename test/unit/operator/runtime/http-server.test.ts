import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { parseListenAddress, startOperatorHttpServer } from '../../../../operator/src/runtime/http-server.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';

describe('operator http server', () => {
  it('serves /metrics from its registry, /healthz always, and /readyz from the callback', async () => {
    const registry = new Registry();
    new Counter({ name: 'cairn_test_total', help: 'test', registers: [registry] }).inc(3);
    let ready = false;
    const server = await startOperatorHttpServer({
      address: '127.0.0.1:0',
      registry,
      ready: () => ready,
      logger: newOperatorLogger({ silent: true }),
    });
    try {
      const base = `http://127.0.0.1:${server.address.port}`;
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^cairn_test_total 3$/m);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      ready = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });

  it('parses listen addresses, defaulting the host to every interface', () => {
    assert.deepEqual(parseListenAddress(':8080'), { host: undefined, port: 8080 });
    assert.deepEqual(parseListenAddress('127.0.0.1:9090'), { host: '127.0.0.1', port: 9090 });
    assert.deepEqual(parseListenAddress('[::1]:8443'), { host: '::1', port: 8443 });
    for (const bad of ['8080', 'host:', ':99999', '::1:80'])
      assert.throws(() => parseListenAddress(bad), /address/);
  });
});
