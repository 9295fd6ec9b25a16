import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { CAIRN_JS, cairnTarget, freePorts, startCairn, stopAll } from '../framework/index.js';
import type { Member } from '../framework/index.js';
import { KVClient } from '../../server/src/proto/gen/etcdserverpb/rpc.js';
import { putRequest } from '../../server/src/proto/messages.js';

const run = promisify(execFile);

/** Sends raw bytes as the request message of a unary method and returns the status it ends with. */
function rawCall(endpoint: string, path: string, body: Buffer): Promise<ServiceError | Buffer> {
  const client = new Client(endpoint, credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new Metadata(),
      { deadline: Date.now() + 5000 },
      (err, res) => {
        client.close();
        resolve(err ?? res!);
      },
    );
  });
}

describe(
  'a client cannot crash the server with malformed requests',
  { skip: cairnTarget() !== 'cairn' ? 'cairn only' : false },
  () => {
    let m: Member;
    before(async () => {
      m = await startCairn({ name: 'bad-input' });
    });
    after(() => stopAll(m));

    it('answers garbage protobuf with an error and keeps serving', async () => {
      const endpoint = m.clientUrl.replace('http://', '');
      const garbage = [
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // endless varint
        Buffer.from([0x0a, 0x7f, 0x01]), // a length past the end
        Buffer.from([0x0f]), // wire type 7
        Buffer.from('not protobuf at all, just text'),
      ];
      for (const path of [
        '/etcdserverpb.KV/Put',
        '/etcdserverpb.KV/Range',
        '/etcdserverpb.KV/Txn',
        '/etcdserverpb.Maintenance/Status',
      ]) {
        for (const body of garbage) {
          const res = await rawCall(endpoint, path, body);
          if (Buffer.isBuffer(res)) continue; // some bytes happen to decode as a valid (empty-ish) message
          assert.notEqual(res.code, status.OK);
        }
      }
      // An empty Put body decodes to a request with no key: etcd's exact error.
      const empty = await rawCall(endpoint, '/etcdserverpb.KV/Put', Buffer.alloc(0));
      assert.ok(!Buffer.isBuffer(empty));
      assert.equal(empty.code, status.INVALID_ARGUMENT);
      assert.equal(empty.details, 'etcdserver: key is not provided');

      const kv = new KVClient(endpoint, credentials.createInsecure());
      const put = await new Promise<bigint>((resolve, reject) =>
        kv.put(putRequest({ key: Buffer.from('still'), value: Buffer.from('alive') }), (err, res) =>
          err ? reject(err) : resolve(res.header!.revision),
        ),
      );
      kv.close();
      assert.equal(put, 2n, 'nothing the garbage did was written');
    });

    it('refuses an over-large message at the gRPC layer without dying', async () => {
      const endpoint = m.clientUrl.replace('http://', '');
      // max-request-bytes 1.5 MiB + 512 KiB gRPC headroom: 3 MiB is past both.
      const big = Buffer.concat([
        Buffer.from([0x0a, 0x01, 0x6b, 0x12, 0x80, 0x80, 0xc0, 0x01]),
        Buffer.alloc(3 * 1024 * 1024),
      ]);
      const res = await rawCall(endpoint, '/etcdserverpb.KV/Put', big);
      assert.ok(!Buffer.isBuffer(res));
      assert.equal(res.code, status.RESOURCE_EXHAUSTED);
      const health = await fetch(`${m.metricsUrl}/health`);
      assert.equal(health.status, 200);
    });
  },
);

describe(
  'a data dir that is not a healthy Cairn data dir stops start-up',
  { skip: cairnTarget() !== 'cairn' ? 'cairn only' : false },
  () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    async function startOn(dataDir: string): Promise<{ code: number; stderr: string }> {
      const [client, metrics, peer] = await freePorts(3);
      try {
        await run(
          process.execPath,
          [
            CAIRN_JS,
            '--data-dir',
            dataDir,
            '--listen-client-urls',
            `http://127.0.0.1:${client}`,
            '--listen-metrics-urls',
            `http://127.0.0.1:${metrics}`,
            '--listen-peer-urls',
            `http://127.0.0.1:${peer}`,
            '--initial-advertise-peer-urls',
            `http://127.0.0.1:${peer}`,
          ],
          { timeout: 20_000 },
        );
        return { code: 0, stderr: '' };
      } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
      }
    }

    function dir(): string {
      const d = mkdtempSync(join(tmpdir(), 'cairn-baddir-'));
      dirs.push(d);
      return d;
    }

    it('refuses a directory holding something else', async () => {
      const d = dir();
      writeFileSync(join(d, 'notes.txt'), 'mine');
      const r = await startOn(d);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is not empty and is not a Cairn data dir/);
    });

    it('refuses an etcd data dir and says so', async () => {
      const d = dir();
      mkdirSync(join(d, 'member', 'wal'), { recursive: true });
      mkdirSync(join(d, 'member', 'snap'), { recursive: true });
      writeFileSync(join(d, 'member', 'snap', 'db'), Buffer.alloc(4096));
      const r = await startOn(d);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /looks like an etcd data dir/);
    });

    it('refuses a corrupt database file instead of starting empty', async () => {
      const d = dir();
      mkdirSync(join(d, 'member', 'db'), { recursive: true });
      writeFileSync(join(d, 'member', 'db', 'data.mdb'), Buffer.alloc(64 * 1024, 0xab));
      const r = await startOn(d);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is corrupt/);
    });

    it('rejects unknown flags and bad values with usage', async () => {
      const r1 = await run(process.execPath, [CAIRN_JS, '--no-such-flag']).catch(
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal((r1 as { code: number }).code, 2);
      assert.match((r1 as { stderr: string }).stderr, /Unknown option '--no-such-flag'/);
      const r2 = await run(process.execPath, [CAIRN_JS, '--max-request-bytes', 'lots']).catch(
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal((r2 as { code: number }).code, 2);
      assert.match((r2 as { stderr: string }).stderr, /--max-request-bytes must be a positive integer/);
    });
  },
);
