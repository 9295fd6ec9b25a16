// Differential test: one etcdctl command sequence against a fresh Debian etcd 3.4 and a fresh cairn.
// Outputs are compared after normalising only what legitimately differs between two servers (cluster and
// member ids, raft term/index, db sizes, timings, version strings, ports/URLs, peer URLs). Revisions,
// versions, counts, values, error texts, gRPC codes and exit codes must match exactly.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  etcdctl,
  formatCommand,
  identityOf,
  lineDiff,
  Normalizer,
  startCairn,
  startEtcd,
  stopAll,
  type EtcdctlResult,
  type Member,
} from '../framework/index.js';

interface Step {
  name: string;
  args: string[];
  stdin?: string;
  /** Expected exit code on both servers (default 0): keeps the sequence honest about what it exercises. */
  exit?: number;
  /** Pass the endpoint as host:port (see EtcdctlOptions.bareEndpoint). */
  bare?: boolean;
  /** Kill etcdctl after this long (watch runs until interrupted; it then exits -1 on both sides). */
  timeoutMs?: number;
}

const put = (k: string, v: string): Step => ({ name: `put ${k}=${v}`, args: ['put', k, v] });
const txn = (name: string, stdin: string, args: string[] = [], exit = 0): Step => ({
  name,
  args: ['txn', ...args],
  stdin,
  exit,
});
const ops128 = (n: number): string =>
  Array.from({ length: n }, (_, i) => `put t/${String(i).padStart(3, '0')} "v${i}"`).join('\n');

// Both servers run with --max-request-bytes=4096 so that one sequence also covers "request is too large".
const MAX_REQUEST_BYTES = 4096;

const STEPS: Step[] = [
  { name: 'empty store: header only, revision 1', args: ['get', 'foo', '-w', 'json'] },
  { name: 'empty store: prefix read of everything', args: ['get', '', '--prefix', '-w', 'json'] },
  put('foo', 'bar'),
  { name: 'put --prev-kv', args: ['put', 'foo', 'baz', '--prev-kv'] },
  {
    name: 'put --ignore-value --prev-kv -w json',
    args: ['put', 'foo', '--ignore-value', '--prev-kv', '-w', 'json'],
  },
  { name: 'put --ignore-value on a missing key', args: ['put', 'missing', '--ignore-value'], exit: 1 },
  { name: 'put with a lease that does not exist', args: ['put', 'foo', 'x', '--lease=1234'], exit: 1 },
  { name: 'put with an empty key', args: ['put', '', 'v'], exit: 1 },
  { name: 'get with an empty key', args: ['get', ''], exit: 1 },
  { name: 'del with an empty key', args: ['del', ''], exit: 1 },
  { name: 'get foo -w json after the errors', args: ['get', 'foo', '-w', 'json'] },
  put('d/2', 'y'),
  put('b', '22'),
  put('a', '1'),
  put('c', '3'),
  put('d/1', 'x'),
  put('c', '33'),
  put('a', '2'),
  { name: 'put -w json', args: ['put', 'a', '3', '-w', 'json'] },
  { name: 'put of an empty value', args: ['put', 'e', ''] },
  { name: 'get everything -w json', args: ['get', '', '--prefix', '-w', 'json'] },
  { name: 'get --prefix', args: ['get', 'd', '--prefix'] },
  { name: 'get --from-key', args: ['get', 'c', '--from-key'] },
  { name: 'get range [a, c)', args: ['get', 'a', 'c', '-w', 'json'] },
  { name: 'get --keys-only', args: ['get', '', '--prefix', '--keys-only'] },
  { name: 'get --keys-only -w json', args: ['get', 'c', '--keys-only', '-w', 'json'] },
  { name: 'get --print-value-only', args: ['get', '', '--prefix', '--print-value-only'] },
  { name: 'get -w fields', args: ['get', 'a', '-w', 'fields'] },
  { name: 'get --rev (past value)', args: ['get', 'a', '--rev=5'] },
  {
    name: 'get --rev -w json: header revision is the current one',
    args: ['get', '', '--prefix', '--rev=6', '-w', 'json'],
  },
  { name: 'get --rev before the key existed', args: ['get', 'd/1', '--rev=5'] },
  { name: 'get --rev in the future', args: ['get', 'a', '--rev=1000'], exit: 1 },
  { name: 'get --limit=2 -w json (more, count)', args: ['get', '', '--prefix', '--limit=2', '-w', 'json'] },
  ...(['KEY', 'VERSION', 'CREATE', 'MODIFY', 'VALUE'] as const).flatMap((target) =>
    (['ASCEND', 'DESCEND'] as const).map((order): Step => ({
      name: `get --sort-by=${target} --order=${order}`,
      args: ['get', '', '--prefix', '--keys-only', `--sort-by=${target}`, `--order=${order}`],
    })),
  ),
  {
    name: 'sort then limit -w json',
    args: ['get', '', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '--limit=2', '-w', 'json'],
  },
  { name: 'get --consistency=s', args: ['get', 'a', '--consistency=s'] },
  { name: 'get -w table (refused by etcdctl)', args: ['get', 'a', '-w', 'table'], exit: 4 },
  { name: 'del of nothing', args: ['del', 'nothing'] },
  { name: 'del --prev-kv', args: ['del', 'a', '--prev-kv'] },
  { name: 'del --prefix --prev-kv -w json', args: ['del', 'd/', '--prefix', '--prev-kv', '-w', 'json'] },
  { name: 'del of a range', args: ['del', 'b', 'c'] },
  { name: 'del --from-key -w json', args: ['del', 'e', '--from-key', '-w', 'json'] },
  { name: 'everything after the deletes', args: ['get', '', '--from-key', '-w', 'json'] },
  put('k1', 'v1'),
  txn('txn success branch', 'mod("k1") > "0"\n\nput k1 "new"\nget k1\n\nput k2 "fail"\n\n'),
  txn('txn failure branch -w json', 'value("k1") = "nope"\n\nput k1 "new2"\n\nput k2 "fail"\nget k2\n\n', [
    '-w',
    'json',
  ]),
  txn(
    'txn with several compares and read-your-writes',
    'ver("k1") = "2"\ncreate("k1") = "18"\nmod("k1") < "1000"\nvalue("k2") != "x"\n\n' +
      'get k --prefix\ndel k2 --prev-kv\nput k3 "c"\nget k --prefix --keys-only\n\n\n',
  ),
  txn(
    'txn compares on a missing key',
    'mod("nokey") = "0"\ncreate("nokey") = "0"\nver("nokey") = "0"\n\nput nk "1"\n\n\n',
  ),
  txn('txn value compare on a missing key fails', 'value("nokey") = ""\n\n\nget nk\n\n'),
  txn('txn that writes nothing -w json', 'mod("k1") = "0"\n\n\n\n', ['-w', 'json']),
  txn('txn -w fields', 'mod("k1") = "0"\n\n\nget k1\n\n', ['-w', 'fields']),
  txn('txn -i', 'value("k1") = "new"\n\nput k1 "v-i"\n\nput k2 "fail"\n\n', ['-i']),
  txn('txn duplicate puts', '\nput k1 "a"\nput k1 "b"\n\n\n', [], 1),
  txn('txn put overlapping a delete', 'mod("k1") > "0"\n\nput k1 "a"\ndel k0 k9\n\n\n', [], 1),
  txn('txn with 129 operations', `\n${ops128(129)}\n\n\n`, [], 1),
  txn('txn with 128 operations', `\n${ops128(128)}\n\n\n`),
  { name: 'the 128 keys share one revision', args: ['get', 't/', '--prefix', '--limit=3', '-w', 'json'] },
  { name: 'request too large', args: ['put', 'big', 'x'.repeat(5000)], exit: 1 },
  { name: 'a request below the limit', args: ['put', 'big', 'x'.repeat(500)] },
  put('k1', 'before-compaction'),
  // Watches replay history from a past revision; etcdctl runs until killed.
  {
    name: 'watch every key from revision 2',
    args: ['watch', '--prefix', '', '--rev=2'],
    timeoutMs: 1500,
    exit: -1,
  },
  { name: 'watch --prev-kv', args: ['watch', 'a', '--rev=2', '--prev-kv'], timeoutMs: 1500, exit: -1 },
  {
    name: 'watch -w json',
    args: ['watch', 'd/', '--prefix', '--rev=2', '-w', 'json'],
    timeoutMs: 1500,
    exit: -1,
  },
  { name: 'revision before compaction', args: ['get', 'k1', '-w', 'json'] },
  { name: 'compaction', args: ['compaction', '25'] },
  { name: 'get below the compaction revision', args: ['get', 'k1', '--rev=24'], exit: 1 },
  { name: 'get at the compaction revision', args: ['get', 'k', '--prefix', '--rev=25', '-w', 'json'] },
  { name: 'compaction at the same revision again', args: ['compaction', '25'], exit: 1 },
  { name: 'compaction in the future', args: ['compaction', '1000'], exit: 1 },
  { name: 'compaction --physical', args: ['compaction', '26', '--physical'] },
  {
    name: 'txn reading below the compaction revision',
    args: ['txn'],
    stdin: '\nput z "1"\nget k1 --rev=25\n\n\n',
    exit: 1,
  },
  {
    name: 'get at the physical compaction revision',
    args: ['get', 'k', '--prefix', '--rev=26', '-w', 'json'],
  },
  { name: 'watch below the compaction revision', args: ['watch', 'k', '--rev=3'], timeoutMs: 3000, exit: 5 },
  { name: 'get after compaction', args: ['get', 'k', '--prefix', '-w', 'json'] },
  // host:port endpoints: see EtcdctlOptions.bareEndpoint.
  { name: 'endpoint status -w json', args: ['endpoint', 'status', '-w', 'json'], bare: true },
  { name: 'endpoint status', args: ['endpoint', 'status'], bare: true },
  { name: 'endpoint status -w table', args: ['endpoint', 'status', '-w', 'table'], bare: true },
  // Maintenance and leases (issue 3). Per-endpoint commands get host:port endpoints (Step.bare).
  {
    name: 'endpoint hashkv -w json: the same history hashes the same',
    args: ['endpoint', 'hashkv', '-w', 'json'],
    bare: true,
  },
  { name: 'alarm list (none)', args: ['alarm', 'list'] },
  { name: 'defrag', args: ['defrag'], bare: true },
  { name: 'lease list (none)', args: ['lease', 'list'] },
  { name: 'lease timetolive of an unknown lease', args: ['lease', 'timetolive', '1234'] },
  { name: 'lease revoke of an unknown lease', args: ['lease', 'revoke', '1234'], exit: 1 },
  {
    name: 'lease keep-alive --once of an unknown lease',
    args: ['lease', 'keep-alive', '--once', '1234'],
    exit: 2,
  },
  { name: 'endpoint health', args: ['endpoint', 'health'] },
  { name: 'endpoint health -w json', args: ['endpoint', 'health', '-w', 'json'] },
  { name: 'endpoint health -w table', args: ['endpoint', 'health', '-w', 'table'] },
  { name: 'member list', args: ['member', 'list'] },
  { name: 'member list -w json', args: ['member', 'list', '-w', 'json'] },
  { name: 'member list -w table', args: ['member', 'list', '-w', 'table'] },
  { name: 'del everything', args: ['del', '', '--prefix'] },
  { name: 'empty again, revision kept', args: ['get', '', '--prefix', '-w', 'json'] },
  put('after', 'all'),
  { name: 'final state', args: ['get', '', '--from-key', '-w', 'json'] },
];

/** The command line for messages, with long arguments abbreviated. */
function shortCommand(args: string[]): string {
  return formatCommand(args.map((a) => (a.length > 80 ? `${a.slice(0, 20)}…(${a.length} bytes)` : a)));
}

async function runSequence(m: Member): Promise<EtcdctlResult[]> {
  const out: EtcdctlResult[] = [];
  for (const s of STEPS)
    out.push(
      await etcdctl(m.clientUrl, s.args, {
        ...(s.stdin !== undefined ? { stdin: s.stdin } : {}),
        ...(s.bare === true ? { bareEndpoint: true } : {}),
        ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
      }),
    );
  return out;
}

describe('differential: etcdctl against etcd 3.4 and cairn', () => {
  let reference: Member | undefined;
  let subject: Member | undefined;
  let refOut: string[] = [];
  let subOut: string[] = [];
  let refRaw: EtcdctlResult[] = [];
  let subRaw: EtcdctlResult[] = [];

  before(async () => {
    // Same member name on both, so that member list output compares.
    reference = await startEtcd({ name: 'diff', maxRequestBytes: MAX_REQUEST_BYTES });
    subject = await startCairn({ name: 'diff', maxRequestBytes: MAX_REQUEST_BYTES });
    const [refNorm, subNorm] = [
      new Normalizer(await identityOf(reference)),
      new Normalizer(await identityOf(subject)),
    ];
    [refRaw, subRaw] = await Promise.all([runSequence(reference), runSequence(subject)]);
    refOut = refRaw.map((r) => refNorm.result(r));
    subOut = subRaw.map((r) => subNorm.result(r));
    // DIFF_DUMP=<prefix> writes both normalised transcripts (for debugging a mismatch).
    const dump = process.env['DIFF_DUMP'];
    if (dump !== undefined && dump !== '') {
      const text = (outs: string[]): string =>
        STEPS.map((s, i) => `### step ${i + 1}: ${s.name}\n$ ${shortCommand(s.args)}\n${outs[i]}\n`).join(
          '\n',
        );
      writeFileSync(`${dump}.reference-etcd.txt`, text(refOut));
      writeFileSync(`${dump}.subject-${subject.kind}.txt`, text(subOut));
    }
  });
  after(async () => {
    await stopAll(reference, subject);
  });

  it('the sequence has at least 40 etcdctl invocations with unique names', () => {
    assert.ok(STEPS.length >= 40, `${STEPS.length} steps`);
    assert.equal(new Set(STEPS.map((s) => s.name)).size, STEPS.length);
  });

  STEPS.forEach((step, i) => {
    it(`step ${String(i + 1).padStart(2, '0')}: ${step.name}`, () => {
      const ref = refOut[i];
      const sub = subOut[i];
      assert.ok(ref !== undefined && sub !== undefined, 'sequence did not run');
      const cmd = shortCommand(step.args);
      const header = `step ${i + 1} "${step.name}": ${cmd}${step.stdin !== undefined ? ' <<stdin' : ''}`;
      assert.equal(refRaw[i]!.code, step.exit ?? 0, `etcd exit code\n${header}\n${ref}`);
      if (sub !== ref) {
        assert.fail(
          `${header}\noutputs differ after normalisation (- etcd 3.4, + ${subject?.kind ?? 'cairn'}):\n${lineDiff(ref, sub)}` +
            `\n--- ${subject?.kind ?? 'cairn'} log tail\n${subject?.logs().slice(-2000) ?? ''}`,
        );
      }
    });
  });
});
