// cairn-bench against a running cairn: a bounded put load with sequential keys in a key space leaves exactly
// that key space in the store, and range loads answer every request; the --json figures add up.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata } from '@grpc/grpc-js';
import { KVClient, type RangeResponse } from '../../server/src/proto/gen/etcdserverpb/rpc.js';
import { putRequest, rangeRequest } from '../../server/src/proto/messages.js';
import type { JsonSummary } from '../../server/src/bench/report.js';
import { REPO_ROOT, startCairn, stopAll, type Member } from '../framework/index.js';

const BENCH_JS = join(REPO_ROOT, 'dist/server/src/cmd/cairn-bench.js');

async function bench(m: Member, args: string[]): Promise<JsonSummary> {
  const argv = [BENCH_JS, '--endpoints', m.clientUrl, ...args, '--json'];
  const { stdout } = await promisify(execFile)(process.execPath, argv, { timeout: 30_000 });
  return JSON.parse(stdout) as JsonSummary;
}

function checkSane(s: JsonSummary, total: number): void {
  assert.equal(s.requests, total);
  assert.equal(s.errors, 0);
  assert.deepEqual(s.errorDist, {});
  assert.ok(s.qps > 0 && Number.isFinite(s.qps), `qps ${s.qps}`);
  assert.ok(s.p50Ms > 0 && s.p50Ms <= s.p90Ms && s.p90Ms <= s.p99Ms && s.p99Ms <= s.slowestMs);
}

describe('cairn-bench', () => {
  let member: Member | undefined;
  let kv: KVClient | undefined;
  const client = (): KVClient => {
    assert.ok(kv);
    return kv;
  };
  const range = (key: Buffer, rangeEnd: Buffer): Promise<RangeResponse> =>
    new Promise((resolve, reject) =>
      client().range(
        rangeRequest({ key, rangeEnd }),
        new Metadata(),
        { deadline: new Date(Date.now() + 5000) },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );

  before(async () => {
    member = await startCairn();
    kv = new KVClient(member.clientUrl.replace('http://', ''), credentials.createInsecure());
  });
  after(async () => {
    kv?.close();
    await stopAll(member);
  });

  it('put --total 200 --clients 4 --sequential-keys writes the whole key space', async () => {
    assert.ok(member);
    const s = await bench(member, [
      '--clients',
      '4',
      '--conns',
      '2',
      'put',
      '--total',
      '200',
      '--key-size',
      '8',
      '--val-size',
      '16',
      '--key-space-size',
      '50',
      '--sequential-keys',
    ]);
    checkSane(s, 200);
    // Every key is 8 bytes: the zigzag varint of 0..49 (one byte, 2n), then zeros. From "\0" to the end.
    const all = await range(Buffer.from([0]), Buffer.from([0]));
    assert.equal(all.count, 50n);
    const keys = all.kvs.map((kv) => Buffer.from(kv.key).toString('hex')).sort();
    const expected = Array.from({ length: 50 }, (_, n) =>
      Buffer.from([2 * n, 0, 0, 0, 0, 0, 0, 0]).toString('hex'),
    );
    assert.deepEqual(keys, expected.sort());
    // 200 puts over 50 keys: each key was written 4 times, the value is 16 bytes.
    for (const kv of all.kvs) {
      assert.equal(kv.version, 4n);
      assert.equal(kv.value.length, 16);
    }
  });

  it('range linearizable and serializable answer every request', async () => {
    assert.ok(member);
    await new Promise<void>((resolve, reject) =>
      client().put(putRequest({ key: Buffer.from('bench-k'), value: Buffer.from('v') }), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    checkSane(await bench(member, ['--clients', '4', 'range', 'bench-k', '--total', '200']), 200);
    checkSane(
      await bench(member, ['--clients', '4', 'range', 'bench-k', '--consistency', 's', '--total', '200']),
      200,
    );
  });

  it('ends with a clear error when the endpoint does not answer', async () => {
    const argv = [BENCH_JS, '--endpoints', '127.0.0.1:1', '--request-timeout', '2000', 'put', '--total', '5'];
    await assert.rejects(promisify(execFile)(process.execPath, argv, { timeout: 20_000 }), (err: unknown) => {
      const e = err as { code?: number; stderr?: string };
      return e.code === 1 && /^Error: endpoint unreachable: .*127\.0\.0\.1:1/.test(e.stderr ?? '');
    });
  });
});
