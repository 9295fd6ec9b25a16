// cairnctl's lease commands against Debian's etcdctl 3.4, side by side on one cairn server: the same
// command line run by both must give the same exit code and the same bytes on stdout and stderr, after
// normalising what legitimately differs (the program name, log timestamps, the client id, a remaining TTL
// read a moment later, and lease ids where each program granted its own lease).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ETCDCTL_BIN, REPO_ROOT, freePort, lineDiff, startCairn, type Member } from '../framework/index.js';

const CAIRNCTL_JS = process.env['CAIRNCTL_BIN'] ?? join(REPO_ROOT, 'dist/server/src/cmd/cairnctl.js');

interface Result {
  code: number;
  /** Raw bytes as latin1 (protobuf output is binary). */
  stdout: string;
  stderr: string;
}

function run(program: 'etcdctl' | 'cairnctl', endpoint: string, args: readonly string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCDCTL_')) env[k] = v;
  const [file, pre] = program === 'etcdctl' ? [ETCDCTL_BIN, []] : [process.execPath, [CAIRNCTL_JS]];
  return new Promise((resolve) => {
    const child = execFile(
      file,
      [...pre, `--endpoints=${endpoint}`, ...args],
      { env: { ...env, ETCDCTL_API: '3' }, timeout: 30_000, killSignal: 'SIGKILL', encoding: 'buffer' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout: stdout.toString('latin1'), stderr: stderr.toString('latin1') });
      },
    );
    child.stdin?.end();
  });
}

/** Help output: the program name, and only the part above the global flags (cairnctl has no TLS flags). */
function normalise(s: string, ids: ReadonlyMap<string, string>): string {
  let out = s
    .replace(/"ts":"[^"]*"/g, '"ts":"<ts>"')
    .replace(/client-[0-9a-f-]{36}/g, 'client-<uuid>')
    .replace(/\b(etcdctl|cairnctl)\b/g, '<ctl>')
    .replace(/remaining\(\d+s\)/g, 'remaining(<n>s)')
    .replace(/"ttl":\d+/g, '"ttl":<n>')
    .replace(/"TTL" : \d+\n"GrantedTTL"/g, '"TTL" : <n>\n"GrantedTTL"');
  const g = out.indexOf('GLOBAL OPTIONS:');
  if (g >= 0) out = out.slice(0, g);
  for (const [id, name] of ids) out = out.split(id).join(name);
  return out;
}

describe('cairnctl lease matches etcdctl 3.4', { timeout: 300_000 }, () => {
  let m: Member;
  let lease = '';

  before(async () => {
    m = await startCairn({ name: 'cairnctl-lease' });
    const g = await run('etcdctl', m.clientUrl, ['lease', 'grant', '600']);
    lease = /^lease ([0-9a-f]{16}) /.exec(g.stdout)?.[1] ?? assert.fail(g.stdout + g.stderr);
    for (const k of ['lk/b', 'lk/a'])
      assert.equal((await run('etcdctl', m.clientUrl, ['put', '--lease', lease, k, 'v'])).code, 0);
  });
  after(async () => {
    await m?.stop();
  });

  const ep = (): string => m.clientUrl;

  /** Runs `args` with both programs (etcdctl first) and compares; `ids` maps values to placeholders. */
  async function same(
    args: readonly string[],
    cairnArgs: readonly string[] = args,
    ids: ReadonlyMap<string, string> = new Map(),
  ): Promise<void> {
    const want = await run('etcdctl', ep(), args);
    const got = await run('cairnctl', ep(), cairnArgs);
    const expected = `exit ${want.code}\n--- stdout\n${normalise(want.stdout, ids)}\n--- stderr\n${normalise(want.stderr, ids)}`;
    const actual = `exit ${got.code}\n--- stdout\n${normalise(got.stdout, ids)}\n--- stderr\n${normalise(got.stderr, ids)}`;
    assert.equal(actual, expected, `cairnctl differs for: ${args.join(' ')}\n${lineDiff(expected, actual)}`);
  }

  for (const w of ['simple', 'json', 'fields', 'protobuf', 'table']) {
    it(`-w ${w}: timetolive [--keys], list, keep-alive --once, unknown leases`, async () => {
      await same(['-w', w, 'lease', 'timetolive', lease]);
      await same(['-w', w, 'lease', 'timetolive', '--keys', lease]);
      await same(['-w', w, 'lease', 'list']);
      await same(['-w', w, 'lease', 'keep-alive', '--once', lease]);
      await same(['-w', w, 'lease', 'timetolive', '--keys', '1234']);
      await same(['-w', w, 'lease', 'keep-alive', '--once', '1234']);
      await same(['-w', w, 'lease', 'keep-alive', '1234']);
      await same(['-w', w, 'lease', 'revoke', '1234']);
    });

    it(`-w ${w}: grant and revoke (each program its own lease)`, async () => {
      const want = await run('etcdctl', ep(), ['-w', w, 'lease', 'grant', '77']);
      const got = await run('cairnctl', ep(), ['-w', w, 'lease', 'grant', '77']);
      assert.equal(got.code, want.code);
      // Lease ids are random: compare the shape with every id replaced.
      const ids = async (): Promise<string[]> =>
        (await run('etcdctl', ep(), ['lease', 'list'])).stdout
          .split('\n')
          .filter((l) => /^[0-9a-f]{16}$/.test(l));
      const mask = (s: string): string =>
        s.replace(/"ID":\d+|"ID" : \d+/g, '"ID":<id>').replace(/[0-9a-f]{16}/g, '<hex>');
      if (w !== 'protobuf') assert.equal(mask(got.stdout), mask(want.stdout));
      assert.equal(normalise(got.stderr, new Map()), normalise(want.stderr, new Map()));
      // Revoke: two fresh leases without keys, so the header revision stays the same for both.
      const before = new Set(await ids());
      for (let i = 0; i < 2; i++) await run('etcdctl', ep(), ['lease', 'grant', '100']);
      const [a, b] = (await ids()).filter((x) => !before.has(x));
      assert.ok(a !== undefined && b !== undefined);
      await same(['-w', w, 'lease', 'revoke', a], ['-w', w, 'lease', 'revoke', b], new Map([[b, a]]));
    });
  }

  it('keep-alive ends like clientv3: revoked while running, or no answer within dial-timeout + 1 s', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    for (const w of ['simple', 'json']) {
      const want = await run('etcdctl', closed, ['-w', w, 'lease', 'keep-alive', '1234']);
      const got = await run('cairnctl', closed, ['-w', w, 'lease', 'keep-alive', '1234']);
      assert.deepEqual([got.code, got.stdout, got.stderr], [want.code, want.stdout, want.stderr]);
    }
    for (const program of ['etcdctl', 'cairnctl'] as const) {
      const g = await run('etcdctl', ep(), ['lease', 'grant', '3']);
      const id = /^lease ([0-9a-f]{16}) /.exec(g.stdout)?.[1] ?? assert.fail(g.stdout);
      const revoke = new Promise<void>((resolve) =>
        setTimeout(() => void run('etcdctl', ep(), ['lease', 'revoke', id]).then(() => resolve()), 1500),
      );
      const r = await run(program, ep(), ['lease', 'keep-alive', id]);
      await revoke;
      assert.equal(r.code, 0, `${program}: ${r.stderr}`);
      const lines = r.stdout.split('\n');
      assert.ok(lines.length >= 3, `${program}: ${r.stdout}`);
      assert.equal(lines[0], `lease ${id} keepalived with TTL(3)`);
      assert.deepEqual(lines.slice(-2), [`lease ${id} expired or revoked.`, '']);
    }
  });

  it('argument errors, bad ids and TTLs, help', async () => {
    await same(['lease', 'grant', 'x']);
    await same(['lease', 'grant']);
    await same(['lease', 'grant', '1', '2']);
    await same(['lease', 'grant', '9000000001']);
    await same(['lease', 'revoke', 'zz']);
    await same(['lease', 'revoke']);
    await same(['lease', 'revoke', '--', '-1']);
    await same(['lease', 'timetolive']);
    await same(['lease', 'timetolive', '8000000000000000']);
    await same(['lease', 'keep-alive']);
    await same(['lease', 'keep-alive', 'xyz']);
    await same(['lease']);
    await same(['lease', 'list', '--foo']);
    await same(['lease', 'keep-alive', '--help']);
    await same(['lease', 'timetolive', '--help']);
  });
});
