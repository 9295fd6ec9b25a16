import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CAIRN_JS, cairnTarget, etcdctl, freePorts } from '../framework/index.js';

/** A cairn process started by this test, with its output captured. */
interface Proc {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly metrics: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startProc(dataDir: string): Promise<Proc> {
  const [client, metrics, peer] = await freePorts(3);
  const child = spawn(
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
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    endpoint: `127.0.0.1:${client}`,
    metrics: `http://127.0.0.1:${metrics}`,
    output: () => out,
    exited,
  };
}

/** Polls until the endpoint answers (bounded), or the process has exited. */
async function ready(p: Proc): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (p.child.exitCode !== null) return false;
    if ((await etcdctl(p.endpoint, ['endpoint', 'health'], { timeoutMs: 5000 })).code === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('process lifecycle', { skip: cairnTarget() !== 'cairn' ? 'cairn only' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-lifecycle-'));
  const started: Proc[] = [];
  after(() => {
    for (const p of started)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves, refuses a second process on the same data dir, stops cleanly on SIGTERM and SIGINT', async () => {
    const first = await startProc(dir);
    started.push(first);
    assert.ok(await ready(first), first.output());
    assert.match(first.output(), /is serving the etcd v3 API on 127\.0\.0\.1:\d+/);
    assert.equal((await etcdctl(first.endpoint, ['put', 'k', 'v'])).code, 0);

    const second = await startProc(dir);
    started.push(second);
    const r = await second.exited;
    assert.equal(r.code, 1, second.output());
    assert.match(second.output(), /is in use by process \d+/);

    const text = await (await fetch(`${first.metrics}/metrics`)).text();
    for (const name of [
      'etcd_mvcc_db_total_size_in_bytes',
      'etcd_mvcc_db_total_size_in_use_in_bytes',
      'etcd_debugging_mvcc_keys_total',
      'etcd_disk_backend_commit_duration_seconds_bucket',
      'grpc_server_started_total',
      'grpc_server_handled_total',
      'grpc_server_handling_seconds_bucket',
    ]) {
      assert.match(text, new RegExp(`^${name}[{ ]`, 'm'), `${name} missing from /metrics`);
    }
    assert.match(text, /^grpc_server_handled_total\{[^}]*grpc_method="Put"[^}]*grpc_code="OK"[^}]*\} 1$/m);

    first.child.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null });
    assert.match(first.output(), /"message":"stopped member"/);

    const third = await startProc(dir);
    started.push(third);
    assert.ok(await ready(third), third.output());
    assert.match(third.output(), /"message":"restarted member"/);
    const get = await etcdctl(third.endpoint, ['get', 'k', '--print-value-only']);
    assert.equal(get.stdout, 'v\n');
    third.child.kill('SIGINT');
    assert.deepEqual(await third.exited, { code: 0, signal: null });
  });
});
