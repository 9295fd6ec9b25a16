// The chart's monitoring assets really work on cairn: every metric name the PrometheusRule's expressions
// (charts/cairn-operator/files/prometheus-rules.yaml, seed 003's alerts) and the Grafana dashboard's
// queries (files/grafana-dashboard.json) use is exported by a real 3-member cairn cluster's /metrics.
// A name cairn does not export would make an alert that never fires, or a panel that stays empty.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT, startCluster, waitFor, type Cluster } from '../framework/index.js';

const FILES = join(REPO_ROOT, 'charts/cairn-operator/files');

/** Series Prometheus makes itself, not the target: `up` is the scrape's own result. */
const SYNTHETIC = new Set(['up']);
/** PromQL keywords, which look like names. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/**
 * The metric names a PromQL expression reads. Strings, label matchers `{…}`, ranges `[…]`, grouping
 * lists `by (…)` and numbers go first; what is left are function names (followed by `(`) and metrics.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/#.*$/gm, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    const [, name, call] = m;
    if (name === undefined || call !== undefined || KEYWORDS.has(name) || SYNTHETIC.has(name)) continue;
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

function ruleExpressions(): string[] {
  const file = parse(readFileSync(join(FILES, 'prometheus-rules.yaml'), 'utf8')) as {
    groups: { rules: { expr: string }[] }[];
  };
  return file.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

function dashboardQueries(): string[] {
  const d = JSON.parse(readFileSync(join(FILES, 'grafana-dashboard.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
    templating: { list: { query?: { query?: string } | string }[] };
  };
  const variables = d.templating.list.flatMap((v) =>
    typeof v.query === 'object' && v.query.query !== undefined ? [v.query.query] : [],
  );
  // label_values(metric{…}, label): the metric is read, the label is not a name.
  const fromVariables = variables.map((q) => q.replace(/^label_values\((.*),\s*\w+\)$/, '$1'));
  return [...d.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...fromVariables];
}

/** Every sample name on a /metrics page (histograms as their _bucket, _sum and _count series). */
async function exported(metricsUrl: string): Promise<Set<string>> {
  const text = await (await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m?.[1] !== undefined) names.add(m[1]);
  }
  return names;
}

describe('monitoring assets: the alert rules and the dashboard read metrics cairn exports', () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  it('the expressions are parsed into the metric names they read', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (namespace, pod, le) (rate(etcd_disk_wal_fsync_duration_seconds_bucket{job="cairn", a=~"x|y"}[5m]))) > 0.5',
      ),
      ['etcd_disk_wal_fsync_duration_seconds_bucket'],
    );
    assert.deepEqual(
      metricNames('(etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes) > 0.95'),
      ['etcd_mvcc_db_total_size_in_bytes', 'etcd_server_quota_backend_bytes'],
    );
    assert.deepEqual(metricNames('up{job="cairn"} == 0'), []);
    assert.deepEqual(metricNames('increase(etcd_mvcc_db_total_size_in_bytes[1h]) > 100*1024*1024 # 100MB'), [
      'etcd_mvcc_db_total_size_in_bytes',
    ]);
  });

  it(
    "every metric name in the PrometheusRule and the dashboard is on a real member's /metrics",
    { timeout: 120_000 },
    async () => {
      const rules = ruleExpressions();
      const queries = dashboardQueries();
      assert.equal(rules.length, 8, "seed 003's eight alert rules");
      const wanted = new Map<string, string>();
      for (const e of rules) for (const n of metricNames(e)) wanted.set(n, `alert rule: ${e}`);
      for (const q of queries) for (const n of metricNames(q)) wanted.set(n, `dashboard query: ${q}`);
      // The parser found what the assets are about (a broken parser must not pass by finding nothing).
      for (const n of [
        'etcd_server_has_leader',
        'etcd_disk_wal_fsync_duration_seconds_bucket',
        'grpc_server_handled_total',
      ])
        assert.ok(wanted.has(n), `${n} is among the names read`);

      cluster = await startCluster({ size: 3, target: 'cairn' });
      const c = cluster;
      const leader = await c.waitLeader();
      // Labelled series (gRPC calls, peer round trips) exist only once something happened: some traffic.
      for (let i = 0; i < 10; i++) {
        const r = await c.members[i % 3]!.ctl(['put', `monitoring/${i}`, 'v']);
        assert.equal(r.code, 0, r.stderr);
      }
      assert.equal((await c.members[0]!.ctl(['get', 'monitoring/', '--prefix'])).code, 0);
      await waitFor(
        'a peer round trip measured by the leader',
        async () => (await leader.metricSum('etcd_network_peer_round_trip_time_seconds_count')) > 0,
        30_000,
        250,
      );
      const have = await exported(leader.metricsUrl);
      const missing = [...wanted].filter(([n]) => !have.has(n)).map(([n, where]) => `${n} (${where})`);
      assert.deepEqual(missing, [], `not exported by cairn:\n  ${missing.join('\n  ')}`);
    },
  );
});
