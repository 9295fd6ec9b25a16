// cairnctl against etcdctl: the same scripted command sequence is run by Debian's etcdctl 3.4 on one server
// and by cairnctl on a twin server started the same way (fresh, so both histories are identical), and
// every step must give the same exit code, stdout and stderr. Normalised: what legitimately differs
// between the twins or between two runs (ids, URLs, ports, timings, db sizes, log timestamps, the client's
// random id, Go stack traces) and the program name in usage texts; nothing else.
// CAIRN_TEST_TARGET=etcd runs the twins as Debian etcd 3.4 (the reference); by default they are cairn.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteRangeResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
} from '../../server/src/proto/gen/etcdserverpb/rpc.js';
import {
  ETCDCTL_BIN,
  etcdctl,
  freePort,
  identityOf,
  lineDiff,
  Normalizer,
  parseJson,
  parseTable,
  renderTable,
  REPO_ROOT,
  startCairn,
  stopAll,
  type EtcdctlResult,
  type Member,
} from '../framework/index.js';

const CAIRNCTL_JS = process.env['CAIRNCTL_BIN'] ?? join(REPO_ROOT, 'dist/server/src/cmd/cairnctl.js');

interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
}

interface RawResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * `<program> --endpoints=<endpoint> <args...>` with the framework's etcdctl() conventions (no shell, ETCDCTL_*
 * dropped from the environment, ETCDCTL_API=3, stdin written then closed), keeping the raw output bytes.
 */
function runRaw(
  program: 'etcdctl' | 'cairnctl',
  endpoint: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<RawResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ETCDCTL_')) env[k] = v;
  const [file, pre] = program === 'etcdctl' ? [ETCDCTL_BIN, []] : [process.execPath, [CAIRNCTL_JS]];
  return new Promise((resolve) => {
    const child = execFile(
      file,
      [...pre, `--endpoints=${endpoint}`, ...args],
      {
        env: { ...env, ETCDCTL_API: '3', ...opts.env },
        timeout: 30_000,
        killSignal: 'SIGKILL',
        encoding: 'buffer',
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.stdin ?? '');
  });
}

async function run(
  program: 'etcdctl' | 'cairnctl',
  endpoint: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<EtcdctlResult> {
  const r = await runRaw(program, endpoint, args, opts);
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

const cairnctl = (endpoint: string, args: readonly string[], opts: RunOptions = {}): Promise<EtcdctlResult> =>
  run('cairnctl', endpoint, args, opts);

/** What differs between the twins: their ids and URLs. */
class Twin {
  private constructor(
    readonly member: Member,
    private readonly normalizer: Normalizer,
    private readonly peerUrls: string[],
  ) {}

  static async of(member: Member): Promise<Twin> {
    const id = await identityOf(member);
    const ml = await etcdctl(member.clientUrl, ['member', 'list', '-w', 'json']);
    const parsed = parseJson(ml.stdout) as { members: { peerURLs?: string[] }[] };
    return new Twin(
      member,
      new Normalizer(id),
      parsed.members.flatMap((m) => m.peerURLs ?? []),
    );
  }

  text(s: string): string {
    let out = s;
    for (const u of this.peerUrls) out = out.split(u).join('<peer-url>');
    return this.normalizer.text(out);
  }
}

const STATUS_LINE = /^(\S+), (\S+), ([^,]*), ([^,]*), (true|false), (true|false), (\d+), (\d+), (\d+), (.*)$/;

/**
 * Usage texts list what each program has: etcdctl 3.4 also has TLS and DNS-discovery flags (TLS comes
 * with its own issue) and commands of later issues. Those lines are dropped from both sides, and tab runs
 * (whose length depends on the longest flag listed) collapsed; every other line must still match.
 */
const ETCDCTL_ONLY_FLAG =
  /^ {2}(-d, | {4})--(cacert|cert|key|discovery-srv|discovery-srv-name|insecure-discovery|insecure-skip-tls-verify|insecure-transport)[=[]/;
const CAIRNCTL_COMMANDS = new Set([
  'get',
  'put',
  'del',
  'txn',
  'compaction',
  'endpoint',
  'version',
  'member',
  'help',
  'health',
  'status',
  'list',
]);

function normaliseUsage(s: string): string {
  if (!s.includes('GLOBAL OPTIONS:') && !s.includes('COMMANDS:')) return s;
  return s
    .split('\n')
    .filter((l) => !ETCDCTL_ONLY_FLAG.test(l))
    .filter((l) => {
      const cmd = /^\t([a-z-]+)\t/.exec(l);
      return cmd === null || CAIRNCTL_COMMANDS.has(cmd[1]!);
    })
    .map((l) => l.replace(/\t+/g, '\t'))
    .join('\n');
}

/** Normalises one stream of one run. */
function normalise(s: string, twin: Twin | undefined): string {
  let out = normaliseUsage(s)
    .replace(/"ts":"[^"]*"/g, '"ts":"<ts>"')
    .replace(/client-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'client-<uuid>')
    .replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} ([WC]) \| /gm, '<time> $1 | ')
    .replace(/took = \S+$/gm, 'took = <took>')
    .replace(/"took":"[^"]*"/g, '"took":"<took>"')
    .replace(/"Took" : .*$/gm, '"Took" : <took>')
    .replace(/"(dbSize|dbSizeInUse)":\d+/g, '"$1":<size>')
    .replace(/"DBSize" : \d+/g, '"DBSize" : <size>')
    .replace(/\b(etcdctl|cairnctl)\b/g, '<ctl>');
  // A Go panic's stack trace: keep the panic line.
  out = out.replace(/^(panic: .*\n\ngoroutine \d+ \[running\]:\n)[\s\S]*$/m, '$1');
  if (twin !== undefined) out = twin.text(out);
  out = out
    .split('\n')
    .map((l) => {
      const m = STATUS_LINE.exec(l);
      return m ? [m[1], m[2], m[3], '<size>', ...m.slice(5)].join(', ') : l;
    })
    .join('\n');
  if (out.startsWith('+-')) {
    // Re-render the table after normalising its cells (placeholders change column widths).
    const t = parseTable(out);
    const rows = t.rows.map((r) =>
      r.map((cell, i) => (t.header[i] === 'TOOK' ? '<took>' : t.header[i] === 'DB SIZE' ? '<size>' : cell)),
    );
    out = renderTable({ header: t.header, rows });
  }
  return out;
}

interface Step {
  args: string[];
  stdin?: string;
  env?: Record<string, string>;
  /** Run against this endpoint (for both programs) instead of the twins. */
  endpoint?: string;
  /**
   * Give both programs the endpoint as host:port. etcdctl 3.4's endpoint status dials the endpoint
   * string verbatim and so sends an invalid HTTP/2 authority (`http://host:port`) that Node's HTTP/2
   * stack refuses (README, Troubleshooting).
   */
  bare?: boolean;
  /** -w protobuf output: compared decoded, with the twins' ids and URLs normalised. */
  protobuf?: keyof typeof protobufTypes;
}

const protobufTypes = {
  put: PutResponse,
  range: RangeResponse,
  deleteRange: DeleteRangeResponse,
  memberList: MemberListResponse,
};

/** A decoded message as plain JSON data: bytes as base64, 64-bit integers as decimal strings. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** Decodes a -w protobuf output and renders it as normalised JSON. */
function decodeProtobuf(bytes: Buffer, kind: keyof typeof protobufTypes, twin: Twin): string {
  return twin.text(JSON.stringify(plain(protobufTypes[kind].decode(bytes))));
}

let etcdSide: Twin | undefined;
let cairnSide: Twin | undefined;
let etcdMember: Member | undefined;
let cairnMember: Member | undefined;
let closedEndpoint = '';

/** Runs one step with both programs and asserts identical (normalised) results. */
async function same(step: Step): Promise<void> {
  const a = etcdSide!;
  const b = cairnSide!;
  if (step.protobuf !== undefined) return sameProtobuf(step, step.protobuf);
  const opts: RunOptions = {
    ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
    ...(step.env ? { env: step.env } : {}),
  };
  const url = (m: Member): string => (step.bare === true ? m.clientUrl.replace('http://', '') : m.clientUrl);
  const want = await run('etcdctl', step.endpoint ?? url(a.member), step.args, opts);
  const got = await cairnctl(step.endpoint ?? url(b.member), step.args, opts);
  // Tables are compared after re-rendering; check first that each was rendered exactly as etcdctl does.
  for (const r of [want, got])
    if (r.stdout.startsWith('+-')) assert.equal(renderTable(parseTable(r.stdout)), r.stdout);
  const side = (r: EtcdctlResult, t: Twin): string =>
    `exit ${r.code}\n--- stdout\n${normalise(r.stdout, step.endpoint === undefined ? t : undefined)}` +
    `\n--- stderr\n${normalise(r.stderr, step.endpoint === undefined ? t : undefined)}`;
  const expected = side(want, a);
  const actual = side(got, b);
  assert.ok(
    expected === actual,
    `cairnctl differs from etcdctl for: ${step.args.join(' ')}` +
      (step.stdin !== undefined ? `\n--- stdin\n${step.stdin}` : '') +
      `\n--- diff (- etcdctl, + cairnctl)\n${lineDiff(expected, actual)}`,
  );
}

async function sameProtobuf(step: Step, kind: keyof typeof protobufTypes): Promise<void> {
  const opts: RunOptions = step.stdin !== undefined ? { stdin: step.stdin } : {};
  const want = await runRaw('etcdctl', etcdSide!.member.clientUrl, step.args, opts);
  const got = await runRaw('cairnctl', cairnSide!.member.clientUrl, step.args, opts);
  assert.equal(got.code, want.code, got.stderr.toString());
  assert.equal(got.stderr.toString(), want.stderr.toString());
  assert.equal(decodeProtobuf(got.stdout, kind, cairnSide!), decodeProtobuf(want.stdout, kind, etcdSide!));
}

function step(title: string, s: Step | (() => Step)): void {
  it(title, () => same(typeof s === 'function' ? s() : s));
}

const big = (n: number): string => 'x'.repeat(n);

describe('cairnctl matches etcdctl 3.4', { timeout: 300_000 }, () => {
  before(async () => {
    [etcdMember, cairnMember] = await Promise.all([
      startCairn({ name: 'twin' }),
      startCairn({ name: 'twin' }),
    ]);
    [etcdSide, cairnSide] = await Promise.all([Twin.of(etcdMember), Twin.of(cairnMember)]);
    closedEndpoint = `127.0.0.1:${await freePort()}`; // nothing listens there
  });
  after(() => stopAll(etcdMember, cairnMember));

  describe('put', () => {
    step('put', { args: ['put', 'foo', 'bar'] });
    step('put --prev-kv', { args: ['put', 'foo', 'bar2', '--prev-kv'] });
    step('put --prev-kv -w json', { args: ['put', 'foo', 'bar3', '--prev-kv', '-w', 'json'] });
    step('put --prev-kv -w fields', { args: ['put', 'foo', 'bar4', '--prev-kv', '-w', 'fields'] });
    step('put -w protobuf', { args: ['-w', 'protobuf', 'put', 'foo', 'bar5'], protobuf: 'put' });
    step('put -w table writes, then exits 4', { args: ['put', 'foo', 'bar6', '-w', 'table'] });
    step('value from stdin', { args: ['put', 'multi'], stdin: 'line one\nline two\n' });
    step('binary and non-ASCII keys and values', { args: ['put', 'k\u00e9<y>&', 'v\u00e4l"ue'] });
    step('--ignore-value', { args: ['put', 'foo', '--ignore-value'] });
    step('--ignore-lease', { args: ['put', 'foo', 'bar7', '--ignore-lease'] });
    step('-- before a value starting with -', { args: ['put', 'dash', '--', '-v'] });
    step('a few keys for ranges', { args: ['put', 'a', '1'] });
    step('b', { args: ['put', 'b', '2'] });
    step('c', { args: ['put', 'c', '3'] });
    step('no value and empty stdin: exit 128', { args: ['put', 'k1'] });
    step('--ignore-value with a value: exit 128', { args: ['put', 'k1', 'v', '--ignore-value'] });
    step('bad lease id: exit 128', { args: ['put', 'k1', 'v', '--lease=0x10'] });
    step('unknown lease: server error', { args: ['put', 'k1', 'v', '--lease=1234'] });
    step('--ignore-value on a missing key: server error', { args: ['put', 'nokey', '--ignore-value'] });
    step('empty key: server error', { args: ['put', '', 'v'] });
    step('value starting with - is a flag', { args: ['put', 'k1', '-v'] });
    step('request too large (server limit)', { args: ['put', 'huge'], stdin: big(1_600_000) });
    step('request too large (client limit)', { args: ['put', 'huge'], stdin: big(3_000_000) });
  });

  describe('get', () => {
    step('get', { args: ['get', 'foo'] });
    step('missing key', { args: ['get', 'nothing'] });
    step('-w json', { args: ['get', 'foo', '-w', 'json'] });
    step('-w fields', { args: ['get', 'foo', '-w', 'fields'] });
    step('-w protobuf', { args: ['get', 'foo', '-w', 'protobuf'], protobuf: 'range' });
    step('-w table: exit 4', { args: ['get', 'foo', '-w', 'table'] });
    step('-w yaml: exit 4', { args: ['get', 'foo', '-w', 'yaml'] });
    step('--prefix', { args: ['get', '', '--prefix'] });
    step('--prefix -w json', { args: ['get', '', '--prefix', '-w', 'json'] });
    step('range', { args: ['get', 'a', 'c'] });
    step('--from-key --keys-only', { args: ['get', 'b', '--from-key', '--keys-only'] });
    step('--print-value-only', { args: ['get', 'a', '--prefix', '--print-value-only'] });
    step('--print-value-only -w json: exit 128 after the read', {
      args: ['get', 'a', '--print-value-only', '-w', 'json'],
    });
    step('--limit', { args: ['get', '', '--prefix', '--limit=2', '-w', 'json'] });
    step('--sort-by MODIFY --order DESCEND', {
      args: ['get', '', '--prefix', '--sort-by=MODIFY', '--order=DESCEND'],
    });
    step('--sort-by value --order ascend', {
      args: ['get', '', '--prefix', '--sort-by=value', '--order=ascend', '-w', 'fields'],
    });
    step('--sort-by KEY --order DESCEND', {
      args: ['get', '', '--from-key', '--sort-by=KEY', '--order=DESCEND', '--keys-only'],
    });
    step('--rev', { args: ['get', 'foo', '--rev=2', '-w', 'json'] });
    step('--consistency=s', { args: ['get', 'foo', '--consistency=s'] });
    step('--hex', { args: ['get', 'k\u00e9<y>&', '--hex'] });
    step('non-ASCII -w json and fields', { args: ['get', 'k\u00e9<y>&', '-w', 'json'] });
    step('non-ASCII -w fields', { args: ['get', 'k\u00e9<y>&', '-w', 'fields'] });
    step('future revision: server error', { args: ['get', 'foo', '--rev=1000'] });
    step('bad --consistency: exit 4', { args: ['get', 'foo', '--consistency=x'] });
    step('bad --order: exit 4', { args: ['get', 'foo', '--order=up'] });
    step('bad --sort-by: exit 4', { args: ['get', 'foo', '--sort-by=size'] });
    step('no key: exit 128', { args: ['get'] });
    step('--prefix and --from-key: exit 128', { args: ['get', 'a', '--prefix', '--from-key'] });
    step('range end with --prefix: exit 128', { args: ['get', 'a', 'b', '--prefix'] });
    step('bad flag value', { args: ['get', 'foo', '--rev=abc'] });
    step('unknown flag prints usage', { args: ['put', 'foo', '--bogus'] });
    step('missing flag value', { args: ['get', 'foo', '-w'] });
  });

  describe('get --count-only (an etcdctl 3.5 flag)', () => {
    it('prints the header, More and Count with -w fields', async () => {
      const want = await run('etcdctl', etcdSide!.member.clientUrl, ['get', '', '--prefix', '-w', 'fields']);
      const got = await cairnctl(cairnSide!.member.clientUrl, [
        'get',
        '',
        '--prefix',
        '--count-only',
        '-w',
        'fields',
      ]);
      const withoutKvs = want.stdout
        .split('\n')
        .filter((l) => !/^"(Key|CreateRevision|ModRevision|Version|Value|Lease)" : /.test(l))
        .join('\n');
      assert.equal(got.code, 0, got.stderr);
      assert.equal(normalise(got.stdout, cairnSide), normalise(withoutKvs, etcdSide));
      const simple = await cairnctl(cairnSide!.member.clientUrl, ['get', '', '--prefix', '--count-only']);
      assert.deepEqual(simple, {
        code: 128,
        stdout: '',
        stderr: 'Error: --count-only is only for `--write-out=fields`\n',
      });
    });
  });

  describe('del', () => {
    step('missing key', { args: ['del', 'zz'] });
    step('--prev-kv', { args: ['del', 'a', '--prev-kv'] });
    step('put a key back', { args: ['put', 'a', '1'] });
    step('range --prev-kv -w fields', { args: ['del', 'a', 'c', '--prev-kv', '-w', 'fields'] });
    step('--prefix -w json', { args: ['del', 'mul', '--prefix', '--prev-kv', '-w', 'json'] });
    step('--from-key -w protobuf', {
      args: ['del', 'zzz', '--from-key', '-w', 'protobuf'],
      protobuf: 'deleteRange',
    });
    step('-w table: exit 4 after deleting', { args: ['del', 'c', '-w', 'table'] });
    step('no key: exit 128', { args: ['del'] });
    step('three args: exit 128', { args: ['del', 'a', 'b', 'c'] });
    step('--prefix and --from-key: exit 128', { args: ['del', 'a', '--prefix', '--from-key'] });
  });

  describe('txn', () => {
    const t = (title: string, stdin: string, ...args: string[]): void =>
      step(title, { args: ['txn', ...args], stdin });
    t('success branch', 'mod("foo") > "0"\n\nput foo x\n\nget foo\n\n');
    t(
      'failure branch -w json',
      'value("foo") = "nope"\n\nget foo\n\nput t1 v\nget foo --prefix\n\n',
      '-w',
      'json',
    );
    t('interactive prompts', 'mod("foo") > "0"\n\nput foo y\n\nget foo\n\n', '-i');
    t(
      'all targets, several ops, -w fields',
      'ver("foo") > "0"\nc("foo") > "0"\nm("foo") < "1000"\nval("foo") = "y"\n\nput t2 x --prev-kv\nget t --prefix --keys-only\ndel t1 --prev-kv\n\nget foo\n\n',
      '-w',
      'fields',
    );
    t(
      'long target names, != and <',
      'version("foo") != "0"\ncreate("foo") < "1000"\nmod("foo") > "1"\nvalue("foo") != "z"\n\nget foo\n\n\n',
    );
    t('quoted words and escapes', 'value("foo") = "y"\n\nput "a b" "c\\td"\nget "a b" -w json\n\n\n');
    t('single-quoted words (etcdctl cuts them short)', "\n\nput 'abcdef' 'cd'\nget a\n\n\n");
    t('command prefixes', '\n\ng foo\npu t3 v\nd t3\n\n\n');
    t('empty txn', '\n\n\n');
    t('-w table: exit 4 after committing', '\n\nput t4 v\n\n\n', '-w', 'table');
    t('missing final blank line: EOF', 'mod("foo") > "0"\n\nput foo z\n\nget foo\n');
    t('empty input: EOF', '');
    t('malformed comparison', 'version"foo" = "1"\n\n\n');
    t('unquoted key', 'version(foo) = "1"\n\n\n');
    t('unquoted value', 'version("foo") = 1\n\n\n');
    t('unknown target', 'foo("foo") = "1"\n\n\n');
    t('non-numeric version', 'version("foo") = "abc"\n\n\n');
    t('unknown operator panics', 'version("foo") == "0"\n\n\n');
    t('lease compare panics', 'lease("foo") = "0"\n\n\n');
    t('op without key', '\n\nget\n\n\n');
    t('unknown op', '\n\nfoo bar\n\n\n');
    t('op flag error prints its usage', '\n\nget a --bogus\n\n\n');
    t('put without value', '\n\nput a\n\n\n');
    t('op argument error', '\n\nget a --prefix --from-key\n\n\n');
    t('bad Go literal', '\n\nget "a\\q"\n\n\n');
    t('duplicate keys: server error', '\n\nput d 1\nput d 2\n\n\n');
    t('argument: exit 128', '\n\n\n', 'extra');
  });

  describe('compaction', () => {
    step('compaction', { args: ['compaction', '3'] });
    step('again: compacted', { args: ['compaction', '3'] });
    step('read below it: compacted', { args: ['get', 'foo', '--rev=2'] });
    step('--physical', { args: ['compaction', '5', '--physical'] });
    step('future revision', { args: ['compaction', '100000'] });
    step('-w json still prints text', { args: ['compaction', '6', '-w', 'json'] });
    step('not a number: exit 1', { args: ['compaction', 'abc'] });
    step('no revision: exit 128', { args: ['compaction'] });
  });

  describe('endpoint and member', () => {
    for (const w of ['simple', 'json', 'table', 'fields', 'protobuf']) {
      step(`endpoint status -w ${w}`, { args: ['endpoint', 'status', '-w', w], bare: true });
      step(`endpoint health -w ${w}`, { args: ['endpoint', 'health', '-w', w] });
      step(`member list -w ${w}`, {
        args: ['member', 'list', '-w', w],
        ...(w === 'protobuf' ? { protobuf: 'memberList' as const } : {}),
      });
    }
    // (endpoint status --cluster dials the members' advertised http:// URLs: see Step.bare.)
    step('endpoint health --cluster -w json', { args: ['endpoint', 'health', '--cluster', '-w', 'json'] });
    step('command prefixes', { args: ['endpoint', 'st'], bare: true });
    step('extra arguments are ignored', { args: ['member', 'list', 'extra'] });
  });

  describe('unreachable endpoint', () => {
    const down =
      (args: string[]): (() => Step) =>
      () => ({ args: ['--command-timeout=1s', ...args], endpoint: closedEndpoint });
    step('get', down(['get', 'foo']));
    step('put', down(['put', 'foo', 'bar']));
    step('endpoint health', down(['endpoint', 'health']));
    step('endpoint health -w json', down(['endpoint', 'health', '-w', 'json']));
    step('endpoint status', down(['endpoint', 'status']));
    step('member list', down(['member', 'list']));
  });

  describe('command line and environment', () => {
    step('unknown command with suggestions', { args: ['gte', 'foo'] });
    step('prefix of a command with subcommands', { args: ['me', 'list'] });
    step('put -h', { args: ['put', '-h'] });
    step('help get', { args: ['help', 'get'] });
    step('endpoint health --help', { args: ['endpoint', 'health', '--help'] });
    step('bad --dial-timeout', { args: ['--dial-timeout=abc', 'get', 'foo'] });
    step('ETCDCTL_WRITE_OUT', { args: ['get', 'foo'], env: { ETCDCTL_WRITE_OUT: 'json' } });
    step('unknown ETCDCTL_ variable warns', { args: ['get', 'foo'], env: { ETCDCTL_FOO: '1' } });
    step('variable shadowed by a flag is fatal', {
      args: ['get', 'foo', '-w', 'json'],
      env: { ETCDCTL_WRITE_OUT: 'json' },
    });
    step('malformed ETCDCTL_COMMAND_TIMEOUT zeroes it (health reads it)', {
      args: ['endpoint', 'health'],
      env: { ETCDCTL_COMMAND_TIMEOUT: 'abc' },
    });
    step('ETCDCTL_HEX', { args: ['get', 'foo'], env: { ETCDCTL_HEX: 'true' } });
    step('--user when authentication is not enabled', { args: ['--user=root:x', 'get', 'foo'] });
    step('tiny --dial-timeout fails client creation (exit 2)', {
      args: ['--dial-timeout=1ns', 'get', 'foo'],
    });
  });
});
