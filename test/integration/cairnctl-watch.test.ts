// cairnctl watch against etcdctl watch: both programs watch the same server (cairn, or Debian etcd with
// CAIRN_TEST_TARGET=etcd) with the same arguments at the same time, so ids and revisions are the same on
// both sides and outputs are compared byte for byte (only the program name is normalised). A watch runs
// until it is interrupted: each run is killed once its expected output has arrived (or after a bound),
// and what it printed so far is compared. History is replayed with --rev where possible, so no run
// depends on when its stream was set up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ETCDCTL_BIN,
  etcdctl,
  lineDiff,
  REPO_ROOT,
  startCairn,
  stopAll,
  type Member,
} from '../framework/index.js';

const CAIRNCTL_JS = process.env['CAIRNCTL_BIN'] ?? join(REPO_ROOT, 'dist/server/src/cmd/cairnctl.js');

interface WatchRun {
  /** The exit code, or "killed" when the run was stopped by the test. */
  exit: number | 'killed';
  stdout: string;
  stderr: string;
}

interface WatchOptions {
  /** Lines written to stdin (kept open until the run ends unless `closeStdin`). */
  stdin?: string;
  closeStdin?: boolean;
  env?: Record<string, string>;
  /** The run is complete once its stdout satisfies this (then it is killed after a short grace). */
  done?: (stdout: string, stderr: string) => boolean;
  /** Bound on the run (default 8 s). */
  timeoutMs?: number;
  /** Called once the process was started. */
  started?: () => void;
}

/** Runs `<program> --endpoints=<url> <args...>` until it exits, `done` holds, or the bound passes. */
function watchRun(
  program: 'etcdctl' | 'cairnctl',
  endpoint: string,
  args: readonly string[],
  opts: WatchOptions,
): Promise<WatchRun> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCDCTL_')) env[k] = v;
  const [file, pre] = program === 'etcdctl' ? [ETCDCTL_BIN, []] : [process.execPath, [CAIRNCTL_JS]];
  return new Promise((resolve) => {
    const child = spawn(file, [...pre, `--endpoints=${endpoint}`, ...args], {
      env: { ...env, ETCDCTL_API: '3', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let killedByUs = false;
    let grace: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killedByUs = true;
      child.kill('SIGKILL');
    };
    const bound = setTimeout(kill, opts.timeoutMs ?? 8_000);
    const check = (): void => {
      if (grace !== undefined || opts.done === undefined) return;
      if (opts.done(Buffer.concat(out).toString('latin1'), Buffer.concat(err).toString('latin1'))) {
        grace = setTimeout(kill, 300); // anything printed after the expected output shows as a difference
      }
    };
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      check();
    });
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      check();
    });
    child.stdin.on('error', () => undefined);
    if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
    if (opts.closeStdin === true || opts.stdin === undefined) child.stdin.end();
    child.on('close', (code) => {
      clearTimeout(bound);
      if (grace !== undefined) clearTimeout(grace);
      resolve({
        exit: killedByUs ? 'killed' : (code ?? -1),
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('latin1'),
      });
    });
    opts.started?.();
  });
}

function render(r: WatchRun): string {
  const norm = (s: string): string => s.replace(/\b(etcdctl|cairnctl)\b/g, '<ctl>');
  return `exit ${r.exit}\n--- stdout\n${norm(r.stdout)}\n--- stderr\n${norm(r.stderr)}`;
}

let member: Member | undefined;
let url = '';

async function ctl(...args: string[]): Promise<string> {
  const r = await etcdctl(url, args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function revision(): Promise<bigint> {
  const out = await ctl('get', 'no-such-key', '-w', 'json');
  const m = /"revision":(\d+)/.exec(out);
  assert.ok(m !== null, out);
  return BigInt(m[1]!);
}

const count = (s: string, sub: string): number => s.split(sub).length - 1;

/** Runs both programs side by side (optionally acting on the server once both started). */
async function same(
  args: readonly string[],
  opts: WatchOptions & { expectExit?: number | 'killed'; then?: () => Promise<void> },
): Promise<WatchRun> {
  let startedCount = 0;
  let bothStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (bothStarted = resolve));
  const onStart = (): void => {
    if (++startedCount === 2) bothStarted();
  };
  const runs = Promise.all([
    watchRun('etcdctl', url, args, { ...opts, started: onStart }),
    watchRun('cairnctl', url, args, { ...opts, started: onStart }),
  ]);
  await started;
  if (opts.then !== undefined) await opts.then();
  const [want, got] = await runs;
  const expected = render(want);
  const actual = render(got);
  assert.ok(
    expected === actual,
    `cairnctl watch differs from etcdctl for: ${args.join(' ')}\n--- diff (- etcdctl, + cairnctl)\n${lineDiff(expected, actual)}`,
  );
  if (opts.expectExit !== undefined) assert.equal(want.exit, opts.expectExit, expected);
  return want;
}

describe('cairnctl watch matches etcdctl 3.4 watch', { timeout: 180_000 }, () => {
  let historyRev = 0n;
  let compactedRev = 0n;

  before(async () => {
    member = await startCairn({ name: 'watch' });
    url = member.clientUrl;
    await ctl('put', 'gone', 'x');
    compactedRev = await revision();
    await ctl('put', 'gone', 'y');
    await ctl('compaction', String(compactedRev + 1n));
    historyRev = (await revision()) + 1n;
    await ctl('put', 'k1', 'v1');
    await ctl('put', 'k1', 'v"2<');
    await ctl('put', 'k2', '\u00e9t\u00e9');
    await ctl('put', 'other', 'o');
    await ctl('del', 'k1');
    await ctl('put', 'k2', 'again');
  });
  after(() => stopAll(member));

  // History from historyRev: k1 PUT, k1 PUT, k2 PUT, other PUT, k1 DELETE, k2 PUT.
  const allOf = (n: number) => (stdout: string) => count(stdout, 'PUT\n') + count(stdout, 'DELETE\n') >= n;

  it('a key, with its history (--rev)', async () => {
    const r = await same(['watch', 'k1', '--rev', String(historyRev)], {
      done: allOf(3),
      expectExit: 'killed',
    });
    assert.equal(r.stdout, 'PUT\nk1\nv1\nPUT\nk1\nv"2<\nDELETE\nk1\n\n');
  });

  it('a key, live: events after the watch started', async () => {
    const from = (await revision()) + 1n;
    await same(['watch', 'live', '--rev', String(from)], {
      done: allOf(2),
      expectExit: 'killed',
      then: async () => {
        await ctl('put', 'live', 'one');
        await ctl('del', 'live');
      },
    });
  });

  it('--prefix', async () => {
    await same(['watch', '--prefix', 'k', '--rev', String(historyRev)], {
      done: allOf(5),
      expectExit: 'killed',
    });
  });

  it('a range [key, range_end)', async () => {
    await same(['watch', 'k2', 'p', '--rev', String(historyRev)], { done: allOf(3), expectExit: 'killed' });
  });

  it('--prev-kv, a DELETE included', async () => {
    const r = await same(['watch', 'k1', '--prev-kv', '--rev', String(historyRev)], {
      done: allOf(3),
      expectExit: 'killed',
    });
    assert.match(r.stdout, /^DELETE\nk1\nv"2<\nk1\n\n/m);
  });

  it('--hex', async () => {
    await same(['--hex', 'watch', 'k2', '--rev', String(historyRev)], {
      done: allOf(2),
      expectExit: 'killed',
    });
  });

  for (const w of ['json', 'fields', 'protobuf']) {
    it(`-w ${w}`, async () => {
      const done: Record<string, (stdout: string) => boolean> = {
        json: (stdout) => stdout.endsWith('}\n'),
        fields: (stdout) => count(stdout, '"Type" :') >= 5,
      };
      // protobuf output has no end marker: the run is bounded instead.
      await same(['watch', '--prefix', 'k', '--prev-kv', '-w', w, '--rev', String(historyRev)], {
        ...(done[w] !== undefined ? { done: done[w] } : { timeoutMs: 2_500 }),
        expectExit: 'killed',
      });
    });
  }

  it('-w table fails after the first response (exit 4)', async () => {
    await same(['watch', 'k1', '-w', 'table', '--rev', String(historyRev)], { expectExit: 4 });
  });

  it('a compacted --rev: the cancel on stderr, exit 5', async () => {
    const r = await same(['watch', 'gone', '--rev', String(compactedRev)], { expectExit: 5 });
    assert.equal(
      r.stderr,
      'watch was canceled (etcdserver: mvcc: required revision has been compacted)\n' +
        'Error: watch is canceled by the server\n',
    );
  });

  for (const w of ['json', 'fields', 'protobuf']) {
    it(`a compacted --rev with -w ${w}`, async () => {
      await same(['watch', 'gone', '-w', w, '--rev', String(compactedRev)], { expectExit: 5 });
    });
  }

  it('interactive: watch lines from stdin, bad lines reported', async () => {
    const stdin =
      '\nfoo\nwatch\nwatch a b --prefix\nwatch --prefix k --prev-kv --rev ' + String(historyRev) + '\n';
    await same(['watch', '-i'], {
      stdin,
      done: (stdout, stderr) => allOf(5)(stdout) && count(stderr, '\n') >= 4,
      expectExit: 'killed',
    });
  });

  it('interactive: a compacted watch is reported and the others go on', async () => {
    const stdin = `watch gone --rev ${compactedRev}\nwatch k2 --rev ${historyRev}\n`;
    await same(['watch', '-i'], {
      stdin,
      done: (stdout, stderr) => allOf(2)(stdout) && stderr.includes('compacted'),
      expectExit: 'killed',
    });
  });

  it('interactive: progress', async () => {
    await same(['watch', '-i'], {
      stdin: 'watch nothing-here\nprogress\n',
      done: (stdout) => stdout.includes('progress notify: '),
      expectExit: 'killed',
    });
  });

  it('interactive: the end of stdin exits 3, a bad flag 128', async () => {
    await same(['watch', '-i'], { stdin: 'foo\n', closeStdin: true, expectExit: 3 });
    await same(['watch', '-i'], { stdin: 'watch k1 --bad\n', closeStdin: true, expectExit: 128 });
  });

  it('an exec command per event, with ETCD_WATCH_* in its environment', async () => {
    const script =
      'echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_REVISION"; echo err >&2';
    await same(['watch', 'k1', '--rev', String(historyRev), '--', 'sh', '-c', script], {
      done: (stdout) => count(stdout, '"DELETE"') >= 1,
      expectExit: 'killed',
    });
  });

  it('a failing exec command ends the watch (exit 1)', async () => {
    await same(['watch', 'k1', '--rev', String(historyRev), '--', 'sh', '-c', 'exit 3'], { expectExit: 1 });
    await same(['watch', 'k1', '--rev', String(historyRev), '--', 'no-such-command-here'], { expectExit: 1 });
  });

  it('ETCDCTL_WATCH_KEY and ETCDCTL_WATCH_RANGE_END', async () => {
    await same(['watch', '--rev', String(historyRev)], {
      env: { ETCDCTL_WATCH_KEY: 'k2', ETCDCTL_WATCH_RANGE_END: 'p' },
      done: allOf(3),
      expectExit: 'killed',
    });
    await same(['watch', 'k1'], { env: { ETCDCTL_WATCH_KEY: 'k2' }, expectExit: 128 });
    await same(['watch', 'k1'], { env: { ETCDCTL_WATCH_RANGE_END: 'p' }, expectExit: 128 });
  });

  it('a server restart: the watch resumes from its created revision (replaying that event, as clientv3)', async () => {
    await ctl('put', 'rs', 'before');
    await same(['watch', 'rs'], {
      done: allOf(2),
      expectExit: 'killed',
      timeoutMs: 30_000,
      then: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_500)); // both watches created
        await member!.restart();
        await ctl('put', 'rs', 'after');
      },
    });
  });

  it('argument errors (exit 128)', async () => {
    await same(['watch'], { expectExit: 128 });
    await same(['watch', '--prefix', 'a', 'b'], { expectExit: 128 });
    await same(['watch', 'a', '--'], { expectExit: 128 });
  });
});
