import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { connect, createServer, type Http2Server } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { EtcdError } from '../../../server/src/errors.js';
import { callPeerApi, closePeerApiSessions, servePeerApi } from '../../../server/src/etcdserver/peer-api.js';

interface Seen {
  method: string;
  path: string;
  body: unknown;
}

describe('peer API', () => {
  let server: Http2Server;
  let base: string;
  const seen: Seen[] = [];
  let release: (() => void) | undefined;

  before(async () => {
    server = createServer();
    server.on('stream', (stream, headers) => {
      servePeerApi(stream, headers, async (method, path, body) => {
        seen.push({ method, path, body });
        if (path === '/members')
          return { clusterId: 'cdf818194e3a8c32', members: [{ id: '8e9e05c52164694d' }] };
        if (path === '/leases/renew') return { ttl: 42, echo: body };
        if (path === '/leases/notfound') throw new EtcdError('ErrLeaseNotFound', 'lease not found: 7');
        if (path === '/leases/plain') throw new Error('disk on fire');
        if (path === '/leases/nothing') return undefined;
        if (path === '/slow') {
          await new Promise<void>((r) => {
            release = r;
          });
          return {};
        }
        throw new EtcdError('ErrMemberNotFound');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    release?.();
    closePeerApiSessions();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('round-trips a GET with no body', async () => {
    const res = await callPeerApi(base, 'GET', '/members', undefined, 2_000);
    assert.deepEqual(res, { clusterId: 'cdf818194e3a8c32', members: [{ id: '8e9e05c52164694d' }] });
    const last = seen.at(-1);
    assert.deepEqual(last, { method: 'GET', path: '/members', body: undefined });
  });

  it('round-trips a POST JSON body', async () => {
    const body = { id: '-9223372036854775808', keys: true, list: [1, 'a'] };
    const res = await callPeerApi(base, 'POST', '/leases/renew', body, 2_000);
    assert.deepEqual(res, { ttl: 42, echo: body });
    assert.deepEqual(seen.at(-1), { method: 'POST', path: '/leases/renew', body });
  });

  it('a handler returning nothing answers {}', async () => {
    assert.deepEqual(await callPeerApi(base, 'POST', '/leases/nothing', {}, 2_000), {});
  });

  it('re-raises an EtcdError with the same code and message', async () => {
    await assert.rejects(
      callPeerApi(base, 'POST', '/leases/notfound', { id: '7' }, 2_000),
      (err: unknown) => {
        assert.ok(err instanceof EtcdError, String(err));
        assert.equal(err.code, 'ErrLeaseNotFound');
        assert.equal(err.message, 'lease not found: 7');
        return true;
      },
    );
    await assert.rejects(callPeerApi(base, 'GET', '/other', undefined, 2_000), (err: unknown) => {
      assert.ok(err instanceof EtcdError, String(err));
      assert.equal(err.code, 'ErrMemberNotFound');
      assert.equal(err.message, 'ErrMemberNotFound');
      return true;
    });
  });

  it('a plain error becomes a non-EtcdError with the status and message', async () => {
    await assert.rejects(callPeerApi(base, 'POST', '/leases/plain', {}, 2_000), (err: unknown) => {
      assert.ok(!(err instanceof EtcdError));
      assert.match((err as Error).message, /\/leases\/plain: 500 disk on fire/);
      return true;
    });
  });

  it('answers 400 to a body that is not JSON, without calling the handler', async () => {
    const before = seen.length;
    const client = connect(base);
    try {
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = client.request({ ':method': 'POST', ':path': '/leases/renew' });
        let status = 0;
        const chunks: Buffer[] = [];
        req.on('response', (h) => {
          status = Number(h[':status']);
        });
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString() }));
        req.on('error', reject);
        req.end('{not json');
      });
      assert.equal(status, 400);
      assert.deepEqual(JSON.parse(text), { error: 'bad request', message: 'body is not JSON' });
      assert.equal(seen.length, before);
    } finally {
      client.close();
    }
  });

  it('refuses a body over 64 KiB without calling the handler', async () => {
    const before = seen.length;
    const big = { pad: 'x'.repeat(100 * 1024) };
    await assert.rejects(callPeerApi(base, 'POST', '/leases/renew', big, 2_000), (err: unknown) => {
      assert.ok(!(err instanceof EtcdError));
      assert.match((err as Error).message, new RegExp(`^peer ${base}/leases/renew: `));
      return true;
    });
    assert.equal(seen.length, before);
    // Bodies under the cap still go through.
    const ok = { pad: 'y'.repeat(60 * 1024) };
    assert.deepEqual(await callPeerApi(base, 'POST', '/leases/renew', ok, 2_000), { ttl: 42, echo: ok });
  });

  it('fails with "timed out" when the peer does not answer in time', async () => {
    const started = Date.now();
    await assert.rejects(callPeerApi(base, 'GET', '/slow', undefined, 100), (err: unknown) => {
      assert.equal((err as Error).message, `peer ${base}/slow: timed out`);
      return true;
    });
    assert.ok(Date.now() - started >= 90);
    release?.();
    // The session was dropped; a later call works on a new one.
    assert.deepEqual(await callPeerApi(base, 'POST', '/leases/nothing', {}, 2_000), {});
  });

  it('fails with an error naming the URL when the peer is unreachable', async () => {
    // A port that was just free: nothing listens there.
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const url = `http://127.0.0.1:${port}`;
    await assert.rejects(callPeerApi(url, 'GET', '/members', undefined, 2_000), (err: unknown) => {
      assert.ok(!(err instanceof EtcdError));
      assert.match((err as Error).message, new RegExp(`^peer ${url}/members: .*ECONNREFUSED`));
      return true;
    });
  });
});
