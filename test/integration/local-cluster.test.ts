// `npm start`'s launcher (hack/local-cluster.mjs): it starts three members that form one cluster (names
// infra1..3, the ports of its --base-port layout), prefixes their output, prints the endpoints and example
// commands, and on SIGINT stops every member it started before exiting 0.
// The members are cairn by default, Debian etcd 3.4 with CAIRN_TEST_TARGET=etcd. A base port is chosen
// where all nine ports are free, so the test never touches etcd's default 2379.. ports.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CAIRN_JS,
  ETCD_BIN,
  cairnTarget,
  etcdctl,
  freePort,
  parseJson,
  REPO_ROOT,
  waitFor,
} from '../framework/index.js';

const LAUNCHER = join(REPO_ROOT, 'hack/local-cluster.mjs');
const NAMES = ['infra1', 'infra2', 'infra3'];

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A base port b with b+10i+k free for members i = 0..2 and k = 0..2 (bounded: 30 tries). */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const base = await freePort();
    if (base + 22 > 65535) continue;
    const ports = [0, 10, 20].flatMap((d) => [0, 1, 2].map((k) => base + d + k));
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
  throw new Error('no base port with 9 free ports found in 30 tries');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('hack/local-cluster.mjs (npm start): a local 3-member cluster', () => {
  const target = cairnTarget();
  let launcher: ChildProcess | undefined;
  let output = '';
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  let dataRoot = '';
  let base = 0;
  const pids = (): number[] => [...output.matchAll(/^infra\d +\| pid (\d+): /gm)].map((m) => Number(m[1]));

  before(async () => {
    base = await freeBasePort();
    dataRoot = await mkdtemp(join(tmpdir(), 'local-cluster-test-'));
    const bin = target === 'etcd' ? ETCD_BIN : CAIRN_JS;
    const child = spawn(
      process.execPath,
      [LAUNCHER, '--bin', bin, '--base-port', String(base), '--data-root', dataRoot, '--stop-timeout', '10'],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT },
    );
    launcher = child;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (output += d));
    child.stderr.on('data', (d: string) => (output += d));
    exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  });

  after(async () => {
    // Only if a test failed midway: nothing of ours may outlive the test.
    if (launcher?.pid !== undefined && alive(launcher.pid)) process.kill(launcher.pid, 'SIGKILL');
    for (const pid of pids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (dataRoot !== '') await rm(dataRoot, { recursive: true, force: true, maxRetries: 3 });
  });

  const endpoints = (): string[] => [0, 10, 20].map((d) => `127.0.0.1:${base + d}`);

  it('starts three healthy members that form one cluster', async () => {
    await waitFor(
      '3 healthy members',
      async () => {
        const r = await etcdctl(endpoints().join(','), ['--command-timeout=2s', 'endpoint', 'health'], {
          timeoutMs: 5_000,
        });
        return r.code === 0;
      },
      60_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- launcher output\n${output.slice(-4000)}`);
    });
    assert.equal(pids().length, 3, output.slice(-4000));
    const r = await etcdctl(endpoints()[1]!, ['member', 'list', '-w', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const members = (parseJson(r.stdout) as { members: { name: string; peerURLs: string[] }[] }).members;
    assert.deepEqual(
      members.map((m) => [m.name, m.peerURLs]).sort(),
      NAMES.map((n, i) => [n, [`http://127.0.0.1:${base + 10 * i + 1}`]]),
    );
  });

  it('prefixes member output and prints the endpoints and example commands', async () => {
    await waitFor(
      'the launcher to report a healthy cluster',
      () => output.includes('cluster is healthy'),
      30_000,
      100,
    );
    for (const n of NAMES) assert.match(output, new RegExp(`^${n} \\| `, 'm'));
    const eps = endpoints().join(',');
    assert.ok(output.includes(`etcdctl --endpoints=${eps} member list -w table`), output.slice(-3000));
    assert.ok(output.includes(`--endpoints=${eps} endpoint status --cluster -w table`), output.slice(-3000));
    assert.ok(output.includes('cairnctl.js'), output.slice(-3000));
  });

  it('stops every member on SIGINT and exits 0', async () => {
    const children = pids();
    assert.equal(children.length, 3);
    assert.ok(children.every(alive), 'every member runs before SIGINT');
    process.kill(launcher!.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      exit!,
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 45_000))),
    ]);
    clearTimeout(timer);
    assert.notEqual(result, 'timeout', `launcher still running 45 s after SIGINT\n${output.slice(-4000)}`);
    assert.deepEqual(result, { code: 0, signal: null }, output.slice(-4000));
    assert.deepEqual(
      children.filter(alive),
      [],
      `members left running after the launcher exited\n${output.slice(-4000)}`,
    );
    for (const n of NAMES) assert.match(output, new RegExp(`^${n} +\\| exited `, 'm'));
  });
});
