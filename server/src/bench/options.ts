import { FlagError, FlagSet, makeFlags, type FlagDef } from '../ctl/flag-set.js';

// Command line of cairn-bench: the subset of etcd's tools/benchmark that Cairn measures (root flags plus the
// `put` and `range` commands), with etcd's flag names and defaults. Flags may come before or after the
// command, as with cobra/pflag, in the `--flag value` or `--flag=value` form.

/** A bad command line: the message is printed with the usage text and the exit code is 1. */
export class BenchUsageError extends Error {}

export type Consistency = 'l' | 's';

export interface CommonOptions {
  /** host:port list; `http://` prefixes are dropped. */
  endpoints: string[];
  /** gRPC channels, shared round-robin by the clients. */
  conns: number;
  /** Concurrent workers, each with one request in flight. */
  clients: number;
  /** Requests in all. */
  total: number;
  /** Deadline of each request (and of the reachability probe), in milliseconds. */
  requestTimeoutMs: number;
  /** Print one JSON object instead of the etcd-style report. */
  json: boolean;
}

export interface PutOptions extends CommonOptions {
  command: 'put';
  keySize: number;
  valSize: number;
  keySpaceSize: number;
  sequentialKeys: boolean;
}

export interface RangeOptions extends CommonOptions {
  command: 'range';
  key: string;
  /** Empty: a single key. */
  end: string;
  consistency: Consistency;
}

export type BenchOptions = PutOptions | RangeOptions;

// Bounds: a benchmark that asks for more than this is a typo, and each limit keeps memory bounded
// (one latency sample per request, one gRPC channel per conn, one worker per client).
export const totalMax = 10_000_000;
export const connsMax = 1_000;
export const clientsMax = 10_000;
export const sizeBytesMax = 1 << 20;

export const USAGE = `Usage: cairn-bench [global flags] <put|range> [flags]

Commands (etcd tools/benchmark names and defaults):
  put                        Benchmark put
      --total N              Total number of put requests (10000)
      --key-size N           Key size of put request (8)
      --val-size N           Value size of put request (8)
      --key-space-size N     Maximum possible keys (1)
      --sequential-keys      Use sequential keys
  range KEY [END]            Benchmark range
      --total N              Total number of range requests (10000)
      --consistency l|s      Linearizable(l) or Serializable(s) (l)

Global flags:
      --endpoints LIST       gRPC endpoints (127.0.0.1:2379)
      --conns N              Total number of gRPC connections (1)
      --clients N            Total number of gRPC clients (1)
      --request-timeout MS   Deadline of each request in milliseconds (10000)
      --json                 Print one JSON object (qps, p50/p90/p99 ms, errors)
`;

/** The flags, with the commands that take each (cobra: root persistent flags plus each command's own). */
const FLAG_DEFS: readonly (FlagDef & { commands: readonly string[] })[] = [
  {
    name: 'endpoints',
    kind: 'string',
    default: '127.0.0.1:2379',
    usage: 'gRPC endpoints',
    commands: ['put', 'range'],
  },
  {
    name: 'conns',
    kind: 'int64',
    default: 1n,
    usage: 'Total number of gRPC connections',
    commands: ['put', 'range'],
  },
  {
    name: 'clients',
    kind: 'int64',
    default: 1n,
    usage: 'Total number of gRPC clients',
    commands: ['put', 'range'],
  },
  {
    name: 'request-timeout',
    kind: 'int64',
    default: 10_000n,
    usage: 'Deadline of each request (ms)',
    commands: ['put', 'range'],
  },
  { name: 'json', kind: 'bool', default: false, usage: 'Print one JSON object', commands: ['put', 'range'] },
  {
    name: 'total',
    kind: 'int64',
    default: 10_000n,
    usage: 'Total number of requests',
    commands: ['put', 'range'],
  },
  { name: 'key-size', kind: 'int64', default: 8n, usage: 'Key size of put request', commands: ['put'] },
  { name: 'val-size', kind: 'int64', default: 8n, usage: 'Value size of put request', commands: ['put'] },
  { name: 'key-space-size', kind: 'int64', default: 1n, usage: 'Maximum possible keys', commands: ['put'] },
  { name: 'sequential-keys', kind: 'bool', default: false, usage: 'Use sequential keys', commands: ['put'] },
  {
    name: 'consistency',
    kind: 'string',
    default: 'l',
    usage: 'Linearizable(l) or Serializable(s)',
    commands: ['range'],
  },
];

/**
 * Parses argv (without node and script) with pflag's rules and messages (ctl/flag-set.ts, the same
 * parser cairnctl uses: etcd's benchmark is a cobra/pflag program too); throws BenchUsageError on
 * anything etcd's tool would refuse.
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const flags = new FlagSet(makeFlags(FLAG_DEFS));
  let positional: string[];
  try {
    positional = flags.parse(argv);
  } catch (err) {
    if (err instanceof FlagError) throw new BenchUsageError(err.message);
    throw err;
  }
  const command = positional[0];
  if (command !== 'put' && command !== 'range') {
    throw new BenchUsageError(
      command === undefined ? 'a command is required: put or range' : `unknown command "${command}"`,
    );
  }
  for (const def of FLAG_DEFS) {
    if (flags.changed(def.name) && !def.commands.includes(command)) {
      throw new BenchUsageError(`unknown flag: --${def.name}`);
    }
  }
  const int = (name: string, min: number, max: number): number => {
    const n = flags.int64(name);
    if (n < BigInt(min) || n > BigInt(max)) {
      throw new BenchUsageError(`expected --${name} between ${min} and ${max}, got (${n})`);
    }
    return Number(n);
  };

  const endpoints = flags
    .string('endpoints')
    .split(',')
    .map((e) => e.trim().replace(/^https?:\/\//, ''))
    .filter((e) => e !== '');
  if (endpoints.length === 0) throw new BenchUsageError('expected at least one --endpoints entry');

  const common: CommonOptions = {
    endpoints,
    conns: int('conns', 1, connsMax),
    clients: int('clients', 1, clientsMax),
    total: int('total', 1, totalMax),
    requestTimeoutMs: int('request-timeout', 1, 3_600_000),
    json: flags.bool('json'),
  };

  if (command === 'put') {
    if (positional.length > 1) throw new BenchUsageError(`put takes no arguments, got "${positional[1]}"`);
    const keySpaceSize = int('key-space-size', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    // etcd's own check and message for this flag.
    if (keySpaceSize <= 0)
      throw new BenchUsageError(`expected positive --key-space-size, got (${keySpaceSize})`);
    const keySize = int('key-size', 1, sizeBytesMax);
    if (keySize < varintBytes(keySpaceSize - 1)) {
      throw new BenchUsageError(
        `--key-size ${keySize} is too small for --key-space-size ${keySpaceSize} (needs ${varintBytes(keySpaceSize - 1)} bytes)`,
      );
    }
    return {
      command,
      ...common,
      keySize,
      valSize: int('val-size', 0, sizeBytesMax),
      keySpaceSize,
      sequentialKeys: flags.bool('sequential-keys'),
    };
  }

  const key = positional[1];
  if (key === undefined) throw new BenchUsageError('range needs a key: range KEY [END]');
  if (positional.length > 3) throw new BenchUsageError('too many arguments: range KEY [END]');
  const consistency = flags.string('consistency');
  if (consistency !== 'l' && consistency !== 's') {
    throw new BenchUsageError(`consistency must be l or s, got "${consistency}"`);
  }
  return { command, ...common, key, end: positional[2] ?? '', consistency };
}

/** Bytes of Go's binary.PutVarint (zigzag, 7 bits per byte) for a non-negative n. */
export function varintBytes(n: number): number {
  let u = n * 2; // zigzag of a non-negative number
  let bytes = 1;
  for (; u >= 128 && bytes < 10; bytes++) u = Math.floor(u / 128);
  return bytes;
}
