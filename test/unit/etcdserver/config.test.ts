import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerConfig } from '../../../server/src/etcdserver/config.js';
import {
  ConfigError,
  envName,
  FLAGS,
  parseServerArgs,
  usage,
} from '../../../server/src/etcdserver/config.js';

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const r = parseServerArgs(argv, env);
  assert.equal(r.kind, 'run');
  return r.config;
}

function configError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseServerArgs(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

const hrefs = (us: URL[]) => us.map((u) => u.href);

describe('parseServerArgs', () => {
  it("defaults follow etcd's", () => {
    const c = parse([]);
    assert.equal(c.name, 'default');
    assert.equal(c.dataDir, 'default.cairn');
    assert.deepEqual(hrefs(c.listenClientUrls), ['http://localhost:2379/']);
    assert.deepEqual(hrefs(c.advertiseClientUrls), ['http://localhost:2379/']);
    assert.deepEqual(hrefs(c.initialAdvertisePeerUrls), ['http://localhost:2380/']);
    assert.deepEqual(hrefs(c.listenMetricsUrls), ['http://localhost:2381/']);
    assert.equal(c.maxRequestBytes, 1.5 * 1024 * 1024);
    assert.equal(c.maxTxnOps, 128);
    assert.equal(c.quotaBackendBytes, 2 * 1024 * 1024 * 1024);
    assert.equal(c.logLevel, 'info');
  });

  it('--help and --version', () => {
    assert.deepEqual(parseServerArgs(['--help'], {}), { kind: 'help' });
    assert.deepEqual(parseServerArgs(['--version'], {}), { kind: 'version' });
    assert.deepEqual(parseServerArgs(['--max-txn-ops', 'bad', '--help'], {}), { kind: 'help' });
  });

  it('reads flags in both --flag value and --flag=value forms', () => {
    const c = parse([
      '--name',
      'm1',
      '--data-dir=/var/lib/x',
      '--listen-client-urls',
      'http://127.0.0.1:1234,http://10.0.0.1:1235',
      '--max-request-bytes=1000',
      '--max-txn-ops',
      '7',
      '--quota-backend-bytes',
      '4096',
      '--log-level',
      'debug',
      '--listen-metrics-urls',
      '',
    ]);
    assert.equal(c.name, 'm1');
    assert.equal(c.dataDir, '/var/lib/x');
    assert.deepEqual(hrefs(c.listenClientUrls), ['http://127.0.0.1:1234/', 'http://10.0.0.1:1235/']);
    assert.equal(c.maxRequestBytes, 1000);
    assert.equal(c.maxTxnOps, 7);
    assert.equal(c.quotaBackendBytes, 4096);
    assert.equal(c.logLevel, 'debug');
    assert.deepEqual(c.listenMetricsUrls, [], 'metrics listeners may be turned off');
  });

  it('every flag has a CAIRN_* variable; flags win over the environment', () => {
    assert.equal(envName('data-dir'), 'CAIRN_DATA_DIR');
    assert.equal(envName('initial-advertise-peer-urls'), 'CAIRN_INITIAL_ADVERTISE_PEER_URLS');
    const env = {
      CAIRN_NAME: 'from-env',
      CAIRN_MAX_TXN_OPS: '10',
      CAIRN_LOG_LEVEL: 'warn',
      CAIRN_LISTEN_CLIENT_URLS: 'http://127.0.0.1:5000',
    };
    const fromEnv = parse([], env);
    assert.equal(fromEnv.name, 'from-env');
    assert.equal(fromEnv.maxTxnOps, 10);
    assert.equal(fromEnv.logLevel, 'warn');
    assert.deepEqual(hrefs(fromEnv.listenClientUrls), ['http://127.0.0.1:5000/']);
    const both = parse(['--name', 'from-flag', '--max-txn-ops', '20'], env);
    assert.equal(both.name, 'from-flag');
    assert.equal(both.maxTxnOps, 20);
    assert.equal(both.logLevel, 'warn', 'unset flags still come from the environment');
    // An empty variable counts as unset.
    assert.equal(parse([], { CAIRN_NAME: '' }).name, 'default');
    // Unrelated variables are ignored.
    assert.equal(parse([], { ETCD_NAME: 'etcd', NAME: 'x' }).name, 'default');
  });

  it('${name} in the data dir is the member name, from a flag or the environment', () => {
    assert.equal(parse(['--name', 'infra1']).dataDir, 'infra1.cairn');
    assert.equal(parse([], { CAIRN_NAME: 'infra2' }).dataDir, 'infra2.cairn');
    assert.equal(parse(['--name', 'm', '--data-dir', '/data/${name}/x']).dataDir, '/data/m/x');
    assert.equal(parse(['--name', 'm'], { CAIRN_DATA_DIR: '/srv/${name}' }).dataDir, '/srv/m');
    assert.equal(parse(['--name', 'm', '--data-dir', '/plain']).dataDir, '/plain');
  });

  it('refuses unknown flags, positionals and missing values', () => {
    assert.match(configError(['--nope']), /nope/);
    assert.match(configError(['positional']), /positional/);
    assert.ok(configError(['--name']).length > 0);
  });

  it('bad numbers name the flag and the value', () => {
    for (const bad of ['0', '-1', 'abc', '1.5', '', '1e400']) {
      const msg = configError([`--max-txn-ops=${bad}`]);
      assert.match(msg, /--max-txn-ops must be a positive integer/, bad);
      assert.ok(msg.includes(`"${bad}"`), msg);
    }
    assert.match(
      configError(['--max-request-bytes', 'x']),
      /--max-request-bytes must be a positive integer \(got "x"\)/,
    );
    assert.match(configError([], { CAIRN_QUOTA_BACKEND_BYTES: '-5' }), /--quota-backend-bytes.*"-5"/);
  });

  it('bad URLs name the flag and say what is wrong', () => {
    assert.match(
      configError(['--listen-client-urls', 'not a url']),
      /--listen-client-urls: "not a url" is not a URL/,
    );
    assert.match(configError(['--listen-client-urls', 'https://127.0.0.1:2379']), /only http:\/\//);
    assert.match(
      configError(['--advertise-client-urls', 'http://127.0.0.1']),
      /--advertise-client-urls: .* has no port/,
    );
    assert.match(configError(['--initial-advertise-peer-urls', 'http://h:1/p']), /must not have a path/);
    assert.match(
      configError(['--listen-client-urls', '']),
      /--listen-client-urls must list at least one URL/,
    );
    assert.match(configError(['--listen-client-urls', ' , ']), /at least one URL/);
    assert.match(configError([], { CAIRN_LISTEN_METRICS_URLS: 'ftp://h:1' }), /--listen-metrics-urls/);
  });

  it('a bad log level lists the valid ones', () => {
    assert.equal(
      configError(['--log-level', 'verbose']),
      '--log-level must be one of debug, info, warn, error (got "verbose")',
    );
  });

  it('refuses an empty name or data dir', () => {
    assert.match(configError(['--name', '']), /--name must not be empty/);
    assert.match(configError(['--data-dir', '']), /--data-dir must not be empty/);
  });
});

describe('usage', () => {
  it('lists every flag with its default and variable', () => {
    const u = usage();
    for (const [f, spec] of Object.entries(FLAGS)) {
      assert.ok(u.includes(`--${f}`), f);
      assert.ok(u.includes(envName(f)), f);
      assert.ok(u.includes(`(default "${spec.default}"`), f);
    }
    assert.ok(u.includes('--help') && u.includes('--version'));
  });

  it("cluster flags default as etcd's: one member of its own, 100 ms ticks, 1 s elections", () => {
    const c = parse(['--name', 'm1', '--initial-advertise-peer-urls', 'http://127.0.0.1:12380']);
    assert.equal(c.initialCluster, 'm1=http://127.0.0.1:12380');
    assert.equal(c.initialClusterState, 'new');
    assert.equal(c.initialClusterToken, 'etcd-cluster');
    assert.deepEqual(hrefs(c.listenPeerUrls), ['http://localhost:2380/']);
    assert.equal(c.walDir, 'm1.cairn/member/wal');
    assert.deepEqual(
      [c.heartbeatMs, c.electionMs, c.snapshotCount, c.snapshotCatchUpEntries],
      [100, 1000, 100000, 5000],
    );
    assert.deepEqual([c.maxLearners, c.strictReconfigCheck, c.preVote], [1, true, true]);
    const given = parse([
      '--initial-cluster',
      'a=http://h:1,b=http://h:2',
      '--wal-dir',
      '/w',
      '--pre-vote=false',
    ]);
    assert.equal(given.initialCluster, 'a=http://h:1,b=http://h:2');
    assert.equal(given.walDir, '/w');
    assert.equal(given.preVote, false);
  });

  it("refuses timings etcd refuses, with etcd's words", () => {
    assert.equal(
      configError(['--heartbeat-interval', '100', '--election-timeout', '400']),
      '--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]',
    );
    assert.match(
      configError(['--election-timeout', '60000']),
      /is too long, and should be set less than 50000ms/,
    );
    assert.match(configError(['--initial-cluster-state', 'joining']), /must be "new" or "existing"/);
    assert.match(configError(['--strict-reconfig-check', 'maybe']), /must be true or false/);
    assert.match(configError(['--snapshot-count', '0']), /--snapshot-count must be a positive integer/);
  });
});
