import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { durationToMs, parseGoDuration } from '../util/go-duration.js';
import type { AutoCompaction } from './compactor.js';
import { parseAutoCompaction } from './compactor.js';
import { canonicalUrl } from './membership/member.js';

/** Everything a member is configured with. Names follow etcd's flags (`--data-dir` → dataDir). */
export interface ServerConfig {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: URL[];
  readonly advertiseClientUrls: URL[];
  readonly initialAdvertisePeerUrls: URL[];
  readonly listenMetricsUrls: URL[];
  /** Largest write request accepted (etcd: 1.5 MiB); gRPC messages may be 512 KiB larger. */
  readonly maxRequestBytes: number;
  /** Most compares, or ops per branch, in one txn (etcd: 128). */
  readonly maxTxnOps: number;
  /** The backend size quota reported by Status (etcd: 2 GiB). */
  readonly quotaBackendBytes: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** How often watchers that asked for progress notifications get one when idle (etcd: 10 min). */
  readonly watchProgressNotifyIntervalMs: number;
  /** --auto-compaction-mode and --auto-compaction-retention; undefined: off (etcd's default). */
  readonly autoCompaction?: AutoCompaction | undefined;
  /** Where the WAL lives (etcd --wal-dir); default `<data-dir>/member/wal`. */
  readonly walDir: string;
  readonly listenPeerUrls: URL[];
  /** --initial-cluster as written (`name=url,...`); default `<name>=<initial-advertise-peer-urls>`. */
  readonly initialCluster: string;
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  /** One Raft tick (etcd --heartbeat-interval). */
  readonly heartbeatMs: number;
  /** Raft election timeout (etcd --election-timeout); a multiple of the heartbeat, in ticks. */
  readonly electionMs: number;
  /** Applied entries between two Raft snapshots (etcd --snapshot-count). */
  readonly snapshotCount: number;
  /** Entries kept behind a snapshot for slow followers (etcd --experimental-snapshot-catchup-entries). */
  readonly snapshotCatchUpEntries: number;
  /** Learners allowed at once (etcd --max-learners). */
  readonly maxLearners: number;
  /** Refuse membership changes that could lose quorum (etcd --strict-reconfig-check). */
  readonly strictReconfigCheck: boolean;
  /** Raft pre-vote (etcd --pre-vote). */
  readonly preVote: boolean;
}

export const MAX_REQUEST_BYTES_DEFAULT = 1.5 * 1024 * 1024;
export const MAX_TXN_OPS_DEFAULT = 128;
export const QUOTA_BACKEND_BYTES_DEFAULT = 2 * 1024 * 1024 * 1024;
/** gRPC accepts messages this much larger than maxRequestBytes, so the server can answer "too large". */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

interface FlagSpec {
  readonly help: string;
  readonly default: string;
}

/** Flags by etcd's names; each can also be set as CAIRN_<NAME> (e.g. CAIRN_DATA_DIR). */
export const FLAGS = {
  name: { help: 'Human-readable name for this member.', default: 'default' },
  'data-dir': { help: 'Path to the data directory.', default: '${name}.cairn' },
  'listen-client-urls': {
    help: 'List of URLs to listen on for client gRPC traffic.',
    default: 'http://localhost:2379',
  },
  'advertise-client-urls': {
    help: "List of this member's client URLs to advertise to the rest of the cluster.",
    default: 'http://localhost:2379',
  },
  'initial-advertise-peer-urls': {
    help: "List of this member's peer URLs to advertise to the rest of the cluster.",
    default: 'http://localhost:2380',
  },
  'listen-metrics-urls': {
    help: 'List of URLs to serve /metrics and /health on (empty: none).',
    default: 'http://localhost:2381',
  },
  'max-request-bytes': {
    help: 'Maximum client request size in bytes the server will accept.',
    default: String(MAX_REQUEST_BYTES_DEFAULT),
  },
  'max-txn-ops': {
    help: 'Maximum number of operations permitted in a transaction.',
    default: String(MAX_TXN_OPS_DEFAULT),
  },
  'quota-backend-bytes': {
    help: 'Raise alarms when backend size exceeds the given quota.',
    default: String(QUOTA_BACKEND_BYTES_DEFAULT),
  },
  'log-level': { help: 'Log level: debug, info, warn or error.', default: 'info' },
  'auto-compaction-mode': {
    help: "Interpret 'auto-compaction-retention' one of: periodic|revision.",
    default: 'periodic',
  },
  'auto-compaction-retention': {
    help: "Auto compaction retention for mvcc key value store. 0 means disable auto compaction. 'periodic': hours or a duration (1h, 30m); 'revision': a revision count.",
    default: '0',
  },
  'watch-progress-notify-interval': {
    help: 'Duration of periodic watch progress notifications (Go duration, at least 100ms).',
    default: '10m',
  },
  'wal-dir': { help: 'Path to the dedicated WAL directory (empty: <data-dir>/member/wal).', default: '' },
  'listen-peer-urls': {
    help: 'List of URLs to listen on for peer traffic.',
    default: 'http://localhost:2380',
  },
  'initial-cluster': {
    help: 'Initial cluster configuration for bootstrapping (name=peer-url,...; empty: <name>=<initial-advertise-peer-urls>).',
    default: '',
  },
  'initial-cluster-state': {
    help: "Initial cluster state ('new' or 'existing').",
    default: 'new',
  },
  'initial-cluster-token': {
    help: 'Initial cluster token for the cluster during bootstrap.',
    default: 'etcd-cluster',
  },
  'heartbeat-interval': { help: 'Time (in milliseconds) of a heartbeat interval.', default: '100' },
  'election-timeout': { help: 'Time (in milliseconds) for an election to timeout.', default: '1000' },
  'snapshot-count': {
    help: 'Number of committed transactions to trigger a snapshot to disk.',
    default: '100000',
  },
  'experimental-snapshot-catchup-entries': {
    help: 'Number of entries for a slow follower to catch up after compacting the raft storage entries.',
    default: '5000',
  },
  'max-learners': { help: 'The maximum number of learners allowed in the cluster.', default: '1' },
  'strict-reconfig-check': {
    help: 'Reject reconfiguration requests that would cause quorum loss.',
    default: 'true',
  },
  'pre-vote': { help: 'Enable the raft Pre-Vote algorithm to prevent disruption.', default: 'true' },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type ParsedCommand = { kind: 'run'; config: ServerConfig } | { kind: 'help' } | { kind: 'version' };

/** Parses argv and CAIRN_* environment variables; flags win over the environment. */
export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  };
  for (const f of Object.keys(FLAGS)) options[f] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };
  const get = (f: FlagName): string => {
    const v = values[f];
    if (typeof v === 'string') return v;
    const e = env[envName(f)];
    if (e !== undefined && e !== '') return e;
    return FLAGS[f].default;
  };
  const name = get('name');
  const dataDir = get('data-dir').replace('${name}', name);
  const logLevel = get('log-level');
  if (logLevel !== 'debug' && logLevel !== 'info' && logLevel !== 'warn' && logLevel !== 'error') {
    throw new ConfigError(`--log-level must be one of debug, info, warn, error (got "${logLevel}")`);
  }
  const config: ServerConfig = {
    name,
    dataDir,
    listenClientUrls: parseUrls('listen-client-urls', get('listen-client-urls'), false),
    advertiseClientUrls: parseUrls('advertise-client-urls', get('advertise-client-urls'), false),
    initialAdvertisePeerUrls: parseUrls(
      'initial-advertise-peer-urls',
      get('initial-advertise-peer-urls'),
      false,
    ),
    listenMetricsUrls: parseUrls('listen-metrics-urls', get('listen-metrics-urls'), true),
    maxRequestBytes: parsePositiveInt('max-request-bytes', get('max-request-bytes')),
    maxTxnOps: parsePositiveInt('max-txn-ops', get('max-txn-ops')),
    quotaBackendBytes: parsePositiveInt('quota-backend-bytes', get('quota-backend-bytes')),
    logLevel,
    watchProgressNotifyIntervalMs: parseInterval(
      'watch-progress-notify-interval',
      get('watch-progress-notify-interval'),
      100,
    ),
    walDir: get('wal-dir') === '' ? join(dataDir, 'member', 'wal') : get('wal-dir'),
    listenPeerUrls: parseUrls('listen-peer-urls', get('listen-peer-urls'), false),
    initialCluster: '',
    initialClusterState: parseClusterState(get('initial-cluster-state')),
    initialClusterToken: get('initial-cluster-token'),
    heartbeatMs: parsePositiveInt('heartbeat-interval', get('heartbeat-interval')),
    electionMs: parsePositiveInt('election-timeout', get('election-timeout')),
    snapshotCount: parsePositiveInt('snapshot-count', get('snapshot-count')),
    snapshotCatchUpEntries: parsePositiveInt(
      'experimental-snapshot-catchup-entries',
      get('experimental-snapshot-catchup-entries'),
    ),
    maxLearners: parsePositiveInt('max-learners', get('max-learners')),
    strictReconfigCheck: parseBool('strict-reconfig-check', get('strict-reconfig-check')),
    preVote: parseBool('pre-vote', get('pre-vote')),
  };
  checkRaftTiming(config.heartbeatMs, config.electionMs);
  const initialCluster =
    get('initial-cluster') !== ''
      ? get('initial-cluster')
      : config.initialAdvertisePeerUrls.map((u) => `${name}=${canonicalUrl(u)}`).join(',');
  if (name === '') throw new ConfigError('--name must not be empty');
  if (dataDir === '') throw new ConfigError('--data-dir must not be empty');
  let autoCompaction: AutoCompaction | undefined;
  try {
    autoCompaction = parseAutoCompaction(get('auto-compaction-mode'), get('auto-compaction-retention'));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return { kind: 'run', config: { ...config, initialCluster, autoCompaction } };
}

export function envName(flag: string): string {
  return 'CAIRN_' + flag.toUpperCase().replaceAll('-', '_');
}

function parseUrls(flag: string, value: string, allowEmpty: boolean): URL[] {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0 && !allowEmpty) throw new ConfigError(`--${flag} must list at least one URL`);
  return parts.map((p) => {
    let u: URL;
    try {
      u = new URL(p);
    } catch {
      throw new ConfigError(`--${flag}: "${p}" is not a URL`);
    }
    if (u.protocol !== 'http:')
      throw new ConfigError(`--${flag}: "${p}": only http:// URLs are supported (TLS comes later)`);
    if (u.port === '') throw new ConfigError(`--${flag}: "${p}" has no port`);
    if (u.pathname !== '/' && u.pathname !== '')
      throw new ConfigError(`--${flag}: "${p}" must not have a path`);
    return u;
  });
}

function parseClusterState(value: string): 'new' | 'existing' {
  if (value === 'new' || value === 'existing') return value;
  throw new ConfigError(`--initial-cluster-state must be "new" or "existing" (got "${value}")`);
}

function parseBool(flag: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`--${flag} must be true or false (got "${value}")`);
}

/** etcd's checks: an election timeout of at least 5 heartbeats keeps elections rare; at most 50 s. */
function checkRaftTiming(heartbeatMs: number, electionMs: number): void {
  if (5 * heartbeatMs > electionMs) {
    throw new ConfigError(
      `--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`,
    );
  }
  if (electionMs > 50_000) {
    throw new ConfigError(
      `--election-timeout[${electionMs}ms] is too long, and should be set less than 50000ms`,
    );
  }
}

function parseInterval(flag: string, value: string, minMs: number): number {
  let ms: number;
  try {
    ms = durationToMs(parseGoDuration(value));
  } catch {
    throw new ConfigError(`--${flag} must be a duration such as 10m or 500ms (got "${value}")`);
  }
  if (ms < minMs) throw new ConfigError(`--${flag} must be at least ${minMs}ms (got "${value}")`);
  return ms;
}

function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new ConfigError(`--${flag} must be a positive integer (got "${value}")`);
  return n;
}

export function usage(): string {
  const lines = ['Usage: cairn [flags]', '', 'A key-value server that speaks the etcd v3 API.', '', 'Flags:'];
  for (const [f, spec] of Object.entries(FLAGS)) {
    lines.push(`  --${f}`, `      ${spec.help} (default "${spec.default}", env ${envName(f)})`);
  }
  lines.push(
    '  --version',
    '      Print the version and exit.',
    '  --help',
    '      Print this help and exit.',
  );
  return lines.join('\n') + '\n';
}
