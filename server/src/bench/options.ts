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

type FlagKind = 'int' | 'bool' | 'string';
const FLAGS: Record<string, { kind: FlagKind; commands: readonly string[] }> = {
  endpoints: { kind: 'string', commands: ['put', 'range'] },
  conns: { kind: 'int', commands: ['put', 'range'] },
  clients: { kind: 'int', commands: ['put', 'range'] },
  'request-timeout': { kind: 'int', commands: ['put', 'range'] },
  json: { kind: 'bool', commands: ['put', 'range'] },
  total: { kind: 'int', commands: ['put', 'range'] },
  'key-size': { kind: 'int', commands: ['put'] },
  'val-size': { kind: 'int', commands: ['put'] },
  'key-space-size': { kind: 'int', commands: ['put'] },
  'sequential-keys': { kind: 'bool', commands: ['put'] },
  consistency: { kind: 'string', commands: ['range'] },
};

function parseIntFlag(name: string, text: string, min: number, max: number): number {
  // Strict decimal, as pflag's strconv.ParseInt: "1e3", "10x" and "" are errors, not 1000 / 10 / 0.
  if (!/^[+-]?\d+$/.test(text)) {
    throw new BenchUsageError(`invalid argument "${text}" for "--${name}" flag: parse error`);
  }
  const n = Number(text);
  if (n < min || n > max) {
    throw new BenchUsageError(`expected --${name} between ${min} and ${max}, got (${text})`);
  }
  return n;
}

/** Parses argv (without node and script); throws BenchUsageError on anything etcd's tool would refuse. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg.length === 2) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const flag = FLAGS[name];
    if (flag === undefined) throw new BenchUsageError(`unknown flag: --${name}`);
    if (eq !== -1) {
      values.set(name, arg.slice(eq + 1));
    } else if (flag.kind === 'bool') {
      values.set(name, 'true');
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new BenchUsageError(`flag needs an argument: --${name}`);
      values.set(name, next);
      i++;
    }
  }

  const command = positional[0];
  if (command !== 'put' && command !== 'range') {
    throw new BenchUsageError(
      command === undefined ? 'a command is required: put or range' : `unknown command "${command}"`,
    );
  }
  for (const name of values.keys()) {
    if (!(FLAGS[name]?.commands ?? []).includes(command)) {
      throw new BenchUsageError(`unknown flag: --${name}`);
    }
  }
  const bool = (name: string): boolean => {
    const v = values.get(name);
    if (v === undefined || v === 'true') return v === 'true';
    if (v === 'false') return false;
    throw new BenchUsageError(`invalid argument "${v}" for "--${name}" flag: parse error`);
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = values.get(name);
    return v === undefined ? def : parseIntFlag(name, v, min, max);
  };

  const endpoints = (values.get('endpoints') ?? '127.0.0.1:2379')
    .split(',')
    .map((e) => e.trim().replace(/^https?:\/\//, ''))
    .filter((e) => e !== '');
  if (endpoints.length === 0) throw new BenchUsageError('expected at least one --endpoints entry');

  const common: CommonOptions = {
    endpoints,
    conns: int('conns', 1, 1, connsMax),
    clients: int('clients', 1, 1, clientsMax),
    total: int('total', 10000, 1, totalMax),
    requestTimeoutMs: int('request-timeout', 10_000, 1, 3_600_000),
    json: bool('json'),
  };

  if (command === 'put') {
    if (positional.length > 1) throw new BenchUsageError(`put takes no arguments, got "${positional[1]}"`);
    const keySpaceSize = int('key-space-size', 1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    // etcd's own check and message for this flag.
    if (keySpaceSize <= 0)
      throw new BenchUsageError(`expected positive --key-space-size, got (${keySpaceSize})`);
    const keySize = int('key-size', 8, 1, sizeBytesMax);
    if (keySize < varintBytes(keySpaceSize - 1)) {
      throw new BenchUsageError(
        `--key-size ${keySize} is too small for --key-space-size ${keySpaceSize} (needs ${varintBytes(keySpaceSize - 1)} bytes)`,
      );
    }
    return {
      command,
      ...common,
      keySize,
      valSize: int('val-size', 8, 0, sizeBytesMax),
      keySpaceSize,
      sequentialKeys: bool('sequential-keys'),
    };
  }

  const key = positional[1];
  if (key === undefined) throw new BenchUsageError('range needs a key: range KEY [END]');
  if (positional.length > 3) throw new BenchUsageError('too many arguments: range KEY [END]');
  const consistency = values.get('consistency') ?? 'l';
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
