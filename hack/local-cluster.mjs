// A local 3-member cluster on 127.0.0.1, like etcd's Procfile (goreman): infra1..3 with etcd's ports
// (client 2379/22379/32379, peer +1, metrics +2), bootstrapped together with --initial-cluster-state new.
// Each member's output lines are prefixed with its name; endpoints and example commands are printed once
// the members are up. Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the members by PID, one after the other:
// SIGTERM, then SIGKILL if still running after --stop-timeout; a second Ctrl-C kills them all at once.
//
//   npm start                                  # builds, then runs three `cairn` members
//   node hack/local-cluster.mjs [options] [-- extra member flags...]
//
// Options:
//   --bin <path>        server binary (default: cairn, i.e. node dist/server/src/cmd/cairn.js; a .js file
//                       runs with node). Same flags for any binary, etcd's names, so `--bin /usr/bin/etcd`
//                       runs etcd 3.4 (with --logger=zap --log-outputs=stderr added). Env: CAIRN_LOCAL_BIN.
//   --base-port <n>     member i (0-based) listens on n+10*i (client), +1 (peer), +2 (metrics), instead of
//                       etcd's 2379/22379/32379 layout (for tests and for a second cluster).
//   --data-root <dir>   data dirs are <dir>/infraN.cairn (infraN.etcd for etcd); default ./local-cluster.
//   --stop-timeout <s>  seconds between SIGTERM and SIGKILL at shutdown (default 10).
//   --ready-timeout <s> seconds to wait for every member's /health before reporting (default 60).
// Every member's PID is printed (`infraN pid P`), so a supervisor can check that none is left behind.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { basename, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const REPO = new URL('..', import.meta.url).pathname;
const CAIRN_JS = join(REPO, 'dist/server/src/cmd/cairn.js');
const CAIRNCTL_JS = join(REPO, 'dist/server/src/cmd/cairnctl.js');
const NAMES = ['infra1', 'infra2', 'infra3'];
const HEALTH_POLL_MS = 250;

function usageExit(message) {
  process.stderr.write(`local-cluster: ${message}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      bin: { type: 'string' },
      'base-port': { type: 'string' },
      'data-root': { type: 'string', default: 'local-cluster' },
      'stop-timeout': { type: 'string', default: '10' },
      'ready-timeout': { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (err) {
  usageExit(err.message);
}
const { values, positionals: extraArgs } = parsed;
if (values.help) {
  const text = (await import('node:fs')).readFileSync(new URL(import.meta.url), 'utf8');
  process.stdout.write(
    text
      .split('\n')
      .slice(
        0,
        text.split('\n').findIndex((l) => !l.startsWith('//')),
      )
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n') + '\n',
  );
  process.exit(0);
}

function positiveNumber(name, text) {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    usageExit(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

const bin = values.bin ?? process.env.CAIRN_LOCAL_BIN ?? CAIRN_JS;
const isEtcd = /^etcd/.test(basename(bin));
const stopTimeoutMs = positiveNumber('stop-timeout', values['stop-timeout']) * 1000;
const readyTimeoutMs = positiveNumber('ready-timeout', values['ready-timeout']) * 1000;
let ports;
if (values['base-port'] === undefined) {
  ports = [2379, 22379, 32379].map((c) => ({ client: c, peer: c + 1, metrics: c + 2 }));
} else {
  const base = positiveNumber('base-port', values['base-port']);
  if (!Number.isInteger(base) || base + 22 > 65535)
    usageExit(`--base-port ${base} leaves no room for 3 members`);
  ports = NAMES.map((_, i) => ({
    client: base + 10 * i,
    peer: base + 10 * i + 1,
    metrics: base + 10 * i + 2,
  }));
}
const dataRoot = resolve(values['data-root']);

const url = (port) => `http://127.0.0.1:${port}`;
const members = NAMES.map((name, i) => ({
  name,
  clientUrl: url(ports[i].client),
  peerUrl: url(ports[i].peer),
  metricsUrl: url(ports[i].metrics),
  dataDir: join(dataRoot, `${name}.${isEtcd ? 'etcd' : 'cairn'}`),
  child: undefined,
  exited: false,
}));
const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');

function memberArgs(m) {
  const args = [
    '--name',
    m.name,
    '--data-dir',
    m.dataDir,
    '--listen-client-urls',
    m.clientUrl,
    '--advertise-client-urls',
    m.clientUrl,
    '--listen-peer-urls',
    m.peerUrl,
    '--initial-advertise-peer-urls',
    m.peerUrl,
    '--listen-metrics-urls',
    m.metricsUrl,
    '--initial-cluster',
    initialCluster,
    '--initial-cluster-state',
    'new',
    '--initial-cluster-token',
    'cairn-local-cluster',
  ];
  if (isEtcd) args.push('--logger=zap', '--log-outputs=stderr');
  return [...args, ...extraArgs];
}

const labelWidth = Math.max(...NAMES.map((n) => n.length));
function say(label, line) {
  process.stdout.write(`${label.padEnd(labelWidth)} | ${line}\n`);
}

function pipeLines(m, stream) {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (line) => say(m.name, line));
}

let stopping = false;

function onExit(m, code, signal) {
  m.exited = true;
  say(m.name, `exited (${signal !== null ? `signal ${signal}` : `code ${code}`})`);
  if (!stopping && members.every((x) => x.exited)) {
    say('local', 'every member has exited');
    process.exit(1);
  }
}

mkdirSync(dataRoot, { recursive: true });
for (const m of members) {
  // etcd wants its data dir private (0700); cairn keeps the same rule.
  mkdirSync(m.dataDir, { recursive: true, mode: 0o700 });
  const [command, args] = bin.endsWith('.js')
    ? [process.execPath, [bin, ...memberArgs(m)]]
    : [bin, memberArgs(m)];
  // Detached (a process group of its own): a terminal's Ctrl-C reaches only this launcher, which then
  // stops the members in order.
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO, detached: true });
  m.child = child;
  child.once('error', (err) => {
    say(m.name, `could not start ${command}: ${err.message}`);
    if (!m.exited) onExit(m, 127, null);
  });
  child.once('exit', (code, signal) => onExit(m, code, signal));
  pipeLines(m, child.stdout);
  pipeLines(m, child.stderr);
  if (child.pid !== undefined) say(m.name, `pid ${child.pid}: ${command} ${args.join(' ')}`);
}

function signalOne(m, signal) {
  if (m.exited || m.child?.pid === undefined) return;
  try {
    process.kill(m.child.pid, signal);
  } catch {
    // Already gone; its exit event follows.
  }
}

/** Sends `signal` to every running member by its PID. */
function signalAll(signal) {
  for (const m of members) signalOne(m, signal);
}

function waitExited(ms, within) {
  return new Promise((done) => {
    const deadline = Date.now() + within;
    const check = () => {
      if (ms.every((m) => m.exited)) done(true);
      else if (Date.now() >= deadline) done(false);
      else setTimeout(check, 50);
    };
    check();
  });
}

/**
 * Stops the members one at a time, each SIGTERM then SIGKILL after the bound. One at a time because a
 * stopping etcd leader first hands its leadership to a peer it is still connected to: with its peers
 * stopping at the same moment that hand-over waits for its whole timeout (seconds); one at a time it is
 * immediate, and the last member has no connected peer left to wait for.
 */
async function shutdown(why) {
  if (stopping) {
    say('local', `${why} again: killing the members (SIGKILL)`);
    signalAll('SIGKILL');
    return;
  }
  stopping = true;
  say('local', `${why}: stopping the members (SIGTERM, SIGKILL after ${stopTimeoutMs / 1000}s)`);
  for (const m of members) {
    if (m.exited || m.child?.pid === undefined) continue;
    signalOne(m, 'SIGTERM');
    if (!(await waitExited([m], stopTimeoutMs))) {
      say(m.name, `still running after ${stopTimeoutMs / 1000}s: SIGKILL`);
      signalOne(m, 'SIGKILL');
      await waitExited([m], 5_000);
    }
  }
  const left = members.filter((m) => !m.exited).map((m) => `${m.name} (pid ${m.child?.pid})`);
  if (left.length > 0) say('local', `not stopped: ${left.join(', ')}`);
  process.exit(left.length > 0 ? 1 : 0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
// Last resort if the launcher itself fails: leave nothing behind.
process.on('exit', () => signalAll('SIGKILL'));

/** GET <metricsUrl>/health answers {"health":"true"}. */
function healthy(m) {
  return new Promise((done) => {
    const req = get(`${m.metricsUrl}/health`, { timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => done(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
  });
}

async function waitHealthy() {
  const deadline = Date.now() + readyTimeoutMs;
  while (!stopping && Date.now() < deadline) {
    const states = await Promise.all(members.map(healthy));
    if (states.every(Boolean)) return true;
    await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
  }
  return false;
}

const endpoints = members.map((m) => m.clientUrl.replace('http://', '')).join(',');
const ctl = relative(process.cwd(), CAIRNCTL_JS) || CAIRNCTL_JS;
function banner() {
  const lines = [
    '',
    `cairn local cluster: ${members.length} members of ${bin}`,
    ...members.map(
      (m) =>
        `  ${m.name}  client ${m.clientUrl}  peer ${m.peerUrl}  metrics ${m.metricsUrl}  data ${relative(process.cwd(), m.dataDir)}`,
    ),
    '',
    'Try (Ctrl-C stops the cluster):',
    `  ETCDCTL_API=3 etcdctl --endpoints=${endpoints} put foo bar`,
    `  ETCDCTL_API=3 etcdctl --endpoints=${endpoints} get foo`,
    `  ETCDCTL_API=3 etcdctl --endpoints=${endpoints} member list -w table`,
    // etcdctl 3.4's --cluster dials the member list's http:// URLs verbatim, which cairn's HTTP/2 refuses
    // (README, troubleshooting); the host:port list gives the same table.
    `  ETCDCTL_API=3 etcdctl --endpoints=${endpoints} endpoint status -w table`,
    `  node ${ctl} --endpoints=${endpoints} put foo bar`,
    `  node ${ctl} --endpoints=${endpoints} get foo`,
    `  node ${ctl} --endpoints=${endpoints} member list -w table`,
    `  node ${ctl} --endpoints=${endpoints} endpoint status --cluster -w table`,
    '',
  ];
  for (const l of lines) say('local', l);
}

if (await waitHealthy()) {
  banner();
  say('local', 'cluster is healthy');
} else if (!stopping) {
  banner();
  say('local', `not every member reported /health within ${readyTimeoutMs / 1000}s; still running`);
}
