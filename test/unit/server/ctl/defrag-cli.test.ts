// defrag --safe and compaction --keep-revisions on the command line, without a server: their flags are
// errors where they do not belong (before any connection), bad rules are refused before anything is
// touched (and the reason lands in --result-file), and the usage texts stay etcdctl 3.4's.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCairnctl } from '../../../../server/src/ctl/main.js';
import { memoryIO } from '../../ctl/memory-io.js';

async function run(args: string[]) {
  const io = memoryIO();
  // An endpoint nobody listens on: a test that reached the network would fail differently.
  const code = await runCairnctl(['--endpoints=127.0.0.1:1', '--dial-timeout=100ms', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('defrag --safe flags', () => {
  for (const flag of [
    '--defrag-rule=dbSize>0',
    '--max-lag=5',
    '--member-timeout=1m',
    '--continue-on-error',
    '--disarm-nospace',
    '--quota-backend-bytes=1024',
    '--result-file=/tmp/x',
  ]) {
    it(`${flag} without --safe: exit 1, printed as a bad flag (error, usage, error)`, async () => {
      const r = await run(['defrag', '--cluster', flag]);
      const name = flag.replace(/=.*$/, '');
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `Error: ${name} can only be used with --safe\n\nError: ${name} can only be used with --safe\n`,
      );
      assert.match(r.stdout, /^NAME:\n\tdefrag - /);
    });
  }

  it('a bad rule: exit 1 before any connection, the reason in --result-file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairnctl-defrag-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'result');
    const r = await run(['defrag', '--safe', '--defrag-rule', 'dbSize >> 1', `--result-file=${file}`]);
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: 'Error: invalid --defrag-rule: unexpected ">" at column 9\n',
    });
    assert.equal(readFileSync(file, 'utf8'), 'invalid --defrag-rule: unexpected ">" at column 9\n');
  });

  it('bad values: negative --max-lag, zero quota or member timeout', async () => {
    for (const [flag, msg] of [
      ['--max-lag=-1', '--max-lag must not be negative (got -1)'],
      ['--quota-backend-bytes=0', '--quota-backend-bytes must be positive (got 0)'],
      ['--member-timeout=0s', '--member-timeout must be positive'],
    ]) {
      const r = await run(['defrag', '--safe', flag!]);
      assert.deepEqual(r, { code: 1, stdout: '', stderr: `Error: ${msg}\n` }, flag);
    }
  });

  it("the usage text is etcdctl 3.4's: the --safe flags are hidden", async () => {
    const r = await run(['defrag', '--help']);
    assert.equal(r.code, 0);
    const options = r.stdout.slice(r.stdout.indexOf('OPTIONS:'), r.stdout.indexOf('GLOBAL OPTIONS:'));
    assert.equal(
      options,
      'OPTIONS:\n      --cluster[=false]\tuse all endpoints from the cluster member list\n  -h, --help[=false]\thelp for defrag\n\n',
    );
  });
});

describe('compaction --keep-revisions flags', () => {
  it('with a <revision> too: exit 128', async () => {
    const r = await run(['compaction', '--keep-revisions=5', '10']);
    assert.deepEqual(r, {
      code: 128,
      stdout: '',
      stderr: 'Error: compaction takes either <revision> or --keep-revisions, not both\n',
    });
  });

  it('negative: exit 1', async () => {
    const r = await run(['compaction', '--keep-revisions=-1']);
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: 'Error: --keep-revisions must not be negative (got -1)\n',
    });
  });

  it('without either: still etcdctl\'s "needs 1 argument"', async () => {
    const r = await run(['compaction']);
    assert.deepEqual(r, { code: 128, stdout: '', stderr: 'Error: compaction command needs 1 argument\n' });
  });
});
