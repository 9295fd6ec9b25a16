// The command line layer without a server: pflag parsing, cobra lookup, usage texts, argument errors.
// Expected texts are etcdctl 3.4.23's, with the program name "cairnctl".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlagError, FlagSet, makeFlags } from '../../../server/src/ctl/flag-set.js';
import { formatTabs } from '../../../server/src/ctl/tab-writer.js';
import { runCairnctl } from '../../../server/src/ctl/main.js';
import { memoryIO } from './memory-io.js';

async function run(args: string[], stdin = '', env: [string, string][] = []) {
  const io = memoryIO(stdin, env);
  const code = await runCairnctl(args, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('FlagSet (pflag)', () => {
  const make = (): FlagSet =>
    new FlagSet(
      makeFlags([
        { name: 'rev', kind: 'int64', default: 0n, usage: '' },
        { name: 'prefix', kind: 'bool', default: false, usage: '' },
        { name: 'write-out', shorthand: 'w', kind: 'string', default: 'simple', usage: '' },
        { name: 'endpoints', kind: 'stringSlice', default: ['127.0.0.1:2379'], usage: '' },
        { name: 'dial-timeout', kind: 'duration', default: 2_000_000_000n, usage: '' },
      ]),
    );

  it('parses interspersed flags in all their forms', () => {
    const fs = make();
    const args = fs.parse([
      'a',
      '--rev',
      '5',
      '-wjson',
      'b',
      '--prefix',
      '--dial-timeout=500ms',
      '--',
      '--prefix',
    ]);
    assert.deepEqual(args, ['a', 'b', '--prefix']);
    assert.equal(fs.int64('rev'), 5n);
    assert.equal(fs.string('write-out'), 'json');
    assert.equal(fs.bool('prefix'), true);
    assert.equal(fs.duration('dial-timeout'), 500_000_000n);
    const fs2 = make();
    fs2.parse(['-w', 'table', '--prefix=false', '-w=fields', '--rev=0x10']);
    assert.equal(fs2.string('write-out'), 'fields');
    assert.equal(fs2.bool('prefix'), false);
    assert.equal(fs2.int64('rev'), 16n);
  });

  it('appends repeated slice flags after replacing the default', () => {
    const fs = make();
    fs.parse(['--endpoints', 'a,b', '--endpoints="c,d"']);
    assert.deepEqual(fs.strings('endpoints'), ['a', 'b', 'c,d']);
  });

  it("fails with pflag's messages", () => {
    const err = (args: string[]): string => {
      try {
        make().parse(args);
      } catch (e) {
        assert.ok(e instanceof FlagError);
        return e.message;
      }
      return 'no error';
    };
    assert.equal(err(['--foo']), 'unknown flag: --foo');
    assert.equal(err(['-x']), "unknown shorthand flag: 'x' in -x");
    assert.equal(err(['--rev']), 'flag needs an argument: --rev');
    assert.equal(err(['-w']), "flag needs an argument: 'w' in -w");
    assert.equal(err(['---x']), 'bad flag syntax: ---x');
    assert.equal(
      err(['--rev', 'abc']),
      'invalid argument "abc" for "--rev" flag: strconv.ParseInt: parsing "abc": invalid syntax',
    );
    assert.equal(
      err(['--prefix=maybe']),
      'invalid argument "maybe" for "--prefix" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    );
    assert.equal(
      err(['--dial-timeout=abc']),
      'invalid argument "abc" for "--dial-timeout" flag: time: invalid duration "abc"',
    );
  });
});

describe('formatTabs (text/tabwriter, padchar \\t)', () => {
  it('pads each column block to the next tab stop after its widest cell', () => {
    assert.equal(formatTabs('a\tx\nlonger-than-8\ty\n\nb\tz\n'), 'a\t\tx\nlonger-than-8\ty\n\nb\tz\n');
  });
});

describe('usage and help', () => {
  it('prints etcdctl-style help for a command (-h, --help, help <cmd>)', async () => {
    const expected =
      'NAME:\n\tcompaction - Compacts the event history in etcd\n\nUSAGE:\n\tcairnctl compaction [options] <revision> [flags]\n\n' +
      "OPTIONS:\n  -h, --help[=false]\t\thelp for compaction\n      --physical[=false]\t'true' to wait for compaction to physically remove all old revisions\n\n" +
      'GLOBAL OPTIONS:\n' +
      '      --command-timeout=5s\t\ttimeout for short running command (excluding dial timeout)\n' +
      '      --debug[=false]\t\t\tenable client-side debug logging\n' +
      '      --dial-timeout=2s\t\t\tdial timeout for client connections\n' +
      '      --endpoints=[127.0.0.1:2379]\tgRPC endpoints\n' +
      '      --hex[=false]\t\t\tprint byte strings as hex encoded strings\n' +
      '      --keepalive-time=2s\t\tkeepalive time for client connections\n' +
      '      --keepalive-timeout=6s\t\tkeepalive timeout for client connections\n' +
      '      --password=""\t\t\tpassword for authentication (if this option is used, --user option shouldn\'t include password)\n' +
      '      --user=""\t\t\t\tusername[:password] for authentication (prompt if password is not supplied)\n' +
      '  -w, --write-out="simple"\t\tset the output format (fields, json, protobuf, simple, table)\n\n';
    for (const args of [
      ['compaction', '-h'],
      ['compaction', '--help'],
      ['help', 'compaction'],
      ['compa', '-h'],
    ]) {
      const r = await run(args);
      assert.deepEqual(r, { code: 0, stdout: expected, stderr: '' }, args.join(' '));
    }
  });

  it('has no TLS flags: TLS arrives with its own issue', async () => {
    const r = await run(['--cert=x', 'member', 'list']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: unknown flag: --cert\n\nError: unknown flag: --cert\n');
  });

  it('prints the error, the usage and the error again for a bad flag (exit 1)', async () => {
    const r = await run(['compaction', '--foo']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: unknown flag: --foo\n\nError: unknown flag: --foo\n');
    assert.match(r.stdout, /^NAME:\n\tcompaction - /);
  });

  it('suggests commands for an unknown one, and resolves unambiguous prefixes', async () => {
    const r = await run(['gte']);
    const msg = 'Error: unknown command "gte" for "cairnctl"\n\nDid you mean this?\n\tget\n\n';
    assert.deepEqual(r, { code: 1, stdout: '', stderr: `${msg}Run 'cairnctl --help' for usage.\n${msg}` });
    assert.match((await run(['me', 'list', '-h'])).stdout, /^NAME:\n\tmember list - /);
    assert.deepEqual(await run(['ge']), {
      code: 128,
      stdout: '',
      stderr: 'Error: get command needs one argument as key and an optional argument as range_end\n',
    });
  });
});

describe('argument errors (before any request)', () => {
  const cases: [string[], number, string][] = [
    [['put'], 128, 'put command needs 1 argument and input from stdin or 2 arguments'],
    [
      ['put', 'k', 'v', '--ignore-value'],
      128,
      "put command needs only 1 argument when 'ignore-value' is set",
    ],
    [
      ['put', 'k', 'v', '--lease=0x10'],
      128,
      'bad lease ID (strconv.ParseInt: parsing "0x10": invalid syntax), expecting ID in Hex',
    ],
    [
      ['get', 'a', '--prefix', '--from-key'],
      128,
      '`--prefix` and `--from-key` cannot be set at the same time, choose one',
    ],
    [
      ['get', 'a', 'b', '--prefix'],
      128,
      'too many arguments, only accept one argument when `--prefix` or `--from-key` is set',
    ],
    [['get', 'a', '--consistency=x'], 4, 'unknown consistency flag "x"'],
    [['get', 'a', '--sort-by=x'], 4, 'bad sort target x'],
    [
      ['get', 'a', '--keys-only', '--count-only'],
      128,
      '`--keys-only` and `--count-only` cannot be set at the same time, choose one',
    ],
    [
      ['del', 'a', 'b', 'c'],
      128,
      'del command needs one argument as key and an optional argument as range_end',
    ],
    [['compaction'], 128, 'compaction command needs 1 argument'],
    [['compaction', 'abc'], 1, 'strconv.ParseInt: parsing "abc": invalid syntax'],
    [['txn', 'x'], 128, 'txn command does not accept argument'],
    [['-w', 'yaml', 'member', 'list'], 4, 'unsupported output format'],
    [['--endpoints=', 'member', 'list'], 2, 'etcdclient: no available endpoints'],
  ];
  for (const [args, code, message] of cases) {
    it(args.join(' '), async () => {
      assert.deepEqual(await run(args), { code, stdout: '', stderr: `Error: ${message}\n` });
    });
  }

  it('reads a missing put value from stdin, and txn input needs its closing blank lines', async () => {
    assert.deepEqual(await run(['txn'], 'mod("k") > "0"\n\nput k v\n'), {
      code: 3,
      stdout: '',
      stderr: 'Error: EOF\n',
    });
    assert.deepEqual(await run(['txn', '-i'], ''), {
      code: 3,
      stdout: 'compares:\n',
      stderr: 'Error: EOF\n',
    });
    assert.deepEqual(await run(['txn'], 'version("k") == "0"\n\n\n'), {
      code: 2,
      stdout: '',
      stderr: 'panic: Unknown result op\n\ngoroutine 1 [running]:\n',
    });
  });
});

describe('ETCDCTL_* environment', () => {
  it('warns about unknown variables and refuses ones shadowed by flags', async () => {
    const r = await run(['-w', 'yaml', 'member', 'list'], '', [['ETCDCTL_FOO', '1']]);
    assert.equal(
      r.stderr,
      '2024-05-01 12:00:00.123456 W | pkg/flags: unrecognized environment variable ETCDCTL_FOO=1\nError: unsupported output format\n',
    );
    const r2 = await run(['-w', 'json', 'member', 'list'], '', [['ETCDCTL_WRITE_OUT', 'json']]);
    assert.deepEqual(r2, {
      code: 1,
      stdout: '',
      stderr:
        '2024-05-01 12:00:00.123456 C | pkg/flags: conflicting environment variable "ETCDCTL_WRITE_OUT" is shadowed by ' +
        'corresponding command-line flag (either unset environment variable or disable flag)\n',
    });
    assert.deepEqual(await run(['member', 'list'], '', [['ETCDCTL_WRITE_OUT', 'yaml']]), {
      code: 4,
      stdout: '',
      stderr: 'Error: unsupported output format\n',
    });
  });
});
