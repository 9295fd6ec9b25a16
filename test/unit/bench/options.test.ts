// cairn-bench's command line: etcd tools/benchmark's flag names and defaults, and errors for bad values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BenchUsageError, parseBenchArgs, varintBytes } from '../../../server/src/bench/options.js';

describe('parseBenchArgs', () => {
  it("gives put etcd's defaults", () => {
    assert.deepEqual(parseBenchArgs(['put']), {
      command: 'put',
      endpoints: ['127.0.0.1:2379'],
      conns: 1,
      clients: 1,
      total: 10000,
      requestTimeoutMs: 10_000,
      json: false,
      keySize: 8,
      valSize: 8,
      keySpaceSize: 1,
      sequentialKeys: false,
    });
  });

  it('takes global flags before or after the command, in both forms', () => {
    const o = parseBenchArgs([
      '--endpoints=http://127.0.0.1:1,127.0.0.1:2',
      '--conns',
      '8',
      'put',
      '--clients=64',
      '--total',
      '200',
      '--key-size',
      '16',
      '--val-size=256',
      '--key-space-size',
      '1000',
      '--sequential-keys',
      '--json',
    ]);
    assert.equal(o.command, 'put');
    if (o.command !== 'put') return;
    assert.deepEqual(o.endpoints, ['127.0.0.1:1', '127.0.0.1:2']);
    assert.equal(o.conns, 8);
    assert.equal(o.clients, 64);
    assert.equal(o.total, 200);
    assert.equal(o.keySize, 16);
    assert.equal(o.valSize, 256);
    assert.equal(o.keySpaceSize, 1000);
    assert.equal(o.sequentialKeys, true);
    assert.equal(o.json, true);
  });

  it('parses range KEY [END] with --consistency', () => {
    const o = parseBenchArgs(['range', 'a', 'z', '--consistency', 's']);
    assert.equal(o.command, 'range');
    if (o.command !== 'range') return;
    assert.equal(o.key, 'a');
    assert.equal(o.end, 'z');
    assert.equal(o.consistency, 's');
    const d = parseBenchArgs(['range', 'k']);
    assert.ok(d.command === 'range' && d.end === '' && d.consistency === 'l' && d.total === 10000);
  });

  const bad: [string[], RegExp][] = [
    [[], /a command is required/],
    [['get'], /unknown command "get"/],
    [['put', '--total', 'x'], /invalid argument "x" for "--total" flag/],
    [['put', '--total', '1e3'], /invalid argument "1e3"/],
    [['put', '--total', '0'], /expected --total between 1 and/],
    [['put', '--clients', '-1'], /expected --clients between 1 and/],
    [['put', '--key-space-size', '0'], /^expected positive --key-space-size, got \(0\)$/],
    [['put', '--key-size', '1', '--key-space-size', '100'], /too small for --key-space-size 100/],
    [['put', '--consistency', 's'], /unknown flag: --consistency/],
    [['put', '--nope'], /unknown flag: --nope/],
    [['put', '--total'], /flag needs an argument: --total/],
    [['put', 'extra'], /put takes no arguments/],
    [['put', '--sequential-keys=maybe'], /invalid argument "maybe" for "--sequential-keys"/],
    [['range'], /range needs a key/],
    [['range', 'a', 'b', 'c'], /too many arguments/],
    [['range', 'a', '--consistency', 'x'], /consistency must be l or s, got "x"/],
    [['range', 'a', '--sequential-keys'], /unknown flag: --sequential-keys/],
    [['--endpoints', ',', 'put'], /at least one --endpoints/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${JSON.stringify(argv)}`, () => {
      assert.throws(
        () => parseBenchArgs(argv),
        (err: unknown) => err instanceof BenchUsageError && message.test(err.message),
      );
    });
  }
});

describe('varintBytes', () => {
  it("counts Go's zigzag varint bytes", () => {
    assert.equal(varintBytes(0), 1);
    assert.equal(varintBytes(63), 1); // zigzag 126
    assert.equal(varintBytes(64), 2); // zigzag 128
    assert.equal(varintBytes(8191), 2);
    assert.equal(varintBytes(8192), 3);
  });
});
