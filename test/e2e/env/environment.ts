// up(): the isolated netns, the PKI, the control plane, the cluster objects and (when built) the node agent.
// down(): undoes all of it from state.json alone, and is safe to run any number of times.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBinaries } from './binaries.js';
import { isPodNetns, type E2eConfig } from './config.js';
import { applyClusterObjects, registerPlaceholderNode } from './cluster-objects.js';
import {
  type EnvContext,
  startApiserver,
  startControllerManager,
  startCoreDns,
  startEtcd,
  startKubeProxy,
  startScheduler,
  startTracked,
  waitComponents,
} from './control-plane.js';
import { waitUntil } from './exec.js';
import { kubectl } from './kubectl.js';
import { runMounts } from './leftovers.js';
import { createEnvNetns, deleteNetns, listNetns, netnsPids } from './netns.js';
import { createPki, pkiPaths, writeKubeconfig } from './pki.js';
import { isRunning, isSameProcess, killProcess, logTail, readCmdline, stopProcess } from './processes.js';
import { type EnvState, readState, type RecordedProcess, writeState } from './state.js';

export type Log = (line: string) => void;

export interface UpOptions {
  /** Start the node agent when dist/test/e2e/agent/main.js exists (default true). */
  agent?: boolean;
  /** Leave a failed start-up running for inspection instead of tearing it down. */
  keepOnFailure?: boolean;
  signal?: AbortSignal;
  log?: Log;
}

export interface UpResult {
  seconds: number;
  kubeconfig: string;
  kubectlWrapper: string;
  kubectl: string;
  /** The helm binary, for the suite's chart test (CAIRN_E2E_HELM). */
  helm: string;
  agent: boolean;
}

const AGENT_NAME = 'agent';
const NODES_READY_TIMEOUT_MS = 60_000;
const COMPONENT_GRACE_MS = 10_000;
// The agent's contract: on SIGTERM it stops its pods and deletes their netns within ~15 s.
const AGENT_GRACE_MS = 20_000;

function writeKubectlWrapper(cfg: E2eConfig, kubectlBin: string): void {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    cfg.paths.kubectlWrapper,
    '#!/bin/sh\n' +
      '# kubectl for the cairn e2e environment. It runs inside the environment netns, because nothing in\n' +
      '# there is reachable from the host network namespace.\n' +
      `exec ip netns exec ${q(cfg.prefix)} ${q(kubectlBin)} --kubeconfig ${q(cfg.paths.kubeconfig)} "$@"\n`,
    { mode: 0o755 },
  );
}

async function readyNodes(cfg: E2eConfig, kubectlBin: string): Promise<string[]> {
  const { stdout } = await kubectl(cfg, kubectlBin, ['get', 'nodes', '-o', 'json'], { timeoutMs: 15_000 });
  const list = JSON.parse(stdout) as {
    items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
  };
  return list.items
    .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata.name);
}

async function startAgent(ctx: EnvContext): Promise<void> {
  const { cfg } = ctx;
  mkdirSync(cfg.paths.agentPids, { recursive: true });
  // nsenter --net, not ip netns exec: ip netns exec also gives the process a private mount namespace, and
  // the `ip netns add` of the agent's pod namespaces would then bind-mount them only in there (invisible to
  // the host's `ip netns`, and to `down`).
  const p = await startTracked(
    ctx,
    AGENT_NAME,
    [
      process.execPath,
      cfg.paths.agentMain,
      '--kubeconfig',
      cfg.paths.kubeconfig,
      '--run-dir',
      cfg.runDir,
      '--repo',
      cfg.repoRoot,
      '--nodes',
      String(cfg.nodeCount),
      '--bridge',
      cfg.net.bridge,
      '--gateway',
      cfg.net.gatewayIp,
      '--dns',
      cfg.net.dnsServiceIp,
      '--cluster-domain',
      cfg.net.clusterDomain,
      '--netns-prefix',
      cfg.prefix,
      '--tls-cert-file',
      pkiPaths(cfg).adminCert,
      '--tls-private-key-file',
      pkiPaths(cfg).adminKey,
      '--client-ca-file',
      pkiPaths(cfg).caCert,
    ],
    ['nsenter', `--net=/run/netns/${cfg.prefix}`],
  );
  let ready: string[] = [];
  await waitUntil(
    `${cfg.nodeCount} Ready nodes`,
    async () => {
      ready = await readyNodes(cfg, ctx.bins.kubectl);
      return ready.length >= cfg.nodeCount || `Ready: [${ready.join(', ')}]`;
    },
    {
      timeoutMs: NODES_READY_TIMEOUT_MS,
      intervalMs: 1_000,
      signal: ctx.signal,
      failIf: () => (isRunning(p.pid) ? undefined : `the agent (pid ${p.pid}) exited`),
      context: () => logTail(p.log, 40),
    },
  );
  ctx.log(`  nodes Ready: ${ready.join(', ')}`);
}

export async function up(cfg: E2eConfig, opts: UpOptions = {}): Promise<UpResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const t0 = Date.now();
  const existing = readState(cfg.paths.state);
  if (existing) {
    const live = existing.processes.filter((p) => isSameProcess(p));
    if (live.length > 0) {
      throw new Error(
        `an environment is already running from ${cfg.paths.state} ` +
          `(${live.map((p) => `${p.name} pid ${p.pid}`).join(', ')}): run \`npm run e2e:down\` first`,
      );
    }
  }
  const strayNetns = (await listNetns()).filter((n) => n === cfg.prefix || isPodNetns(cfg.prefix, n));
  if (existing || strayNetns.length > 0) {
    log(`cleaning up what a previous environment left (${existing ? 'state.json' : strayNetns.join(', ')})`);
    const report = await down(cfg, { log });
    if (!report.ok) throw new Error('could not clean up the previous environment (see above)');
  }

  const bins = await resolveBinaries(cfg, log);
  mkdirSync(cfg.runDir, { recursive: true });
  // Logs of the previous run were kept by `down` for post-mortems; a new run starts them afresh.
  rmSync(cfg.paths.logs, { recursive: true, force: true });
  mkdirSync(cfg.paths.logs, { recursive: true });
  const state: EnvState = {
    version: 1,
    prefix: cfg.prefix,
    runDir: cfg.runDir,
    repoRoot: cfg.repoRoot,
    netns: cfg.prefix,
    createdAt: new Date().toISOString(),
    kubernetesVersion: bins.kubernetesVersion,
    kubectl: bins.kubectl,
    kubeconfig: cfg.paths.kubeconfig,
    paths: cfg.paths,
    processes: [],
  };
  // Written before the netns exists, so that `down` can undo even a start-up that dies half-way.
  writeState(cfg.paths.state, state);
  const agentWanted = (opts.agent ?? true) && existsSync(cfg.paths.agentMain);

  try {
    log(`netns ${cfg.prefix}: lo, bridge ${cfg.net.bridge} ${cfg.net.gatewayIp}/${cfg.net.podPrefixLength}`);
    await createEnvNetns(cfg);
    const pki = await createPki(cfg);
    writeKubeconfig(cfg, pki);
    const ctx: EnvContext = { cfg, bins, pki, state, signal: opts.signal, log };
    log(`etcd (${bins.etcd})`);
    await startEtcd(ctx);
    log(`kube-apiserver ${bins.kubernetesVersion}`);
    await startApiserver(ctx);
    await applyClusterObjects(cfg, bins.kubectl);
    log('kube-controller-manager, kube-scheduler, coredns');
    await waitComponents(ctx, {
      'kube-controller-manager': await startControllerManager(ctx),
      'kube-scheduler': await startScheduler(ctx),
      coredns: await startCoreDns(ctx),
    });
    writeKubectlWrapper(cfg, bins.kubectl);
    // The agent before kube-proxy: kube-proxy waits up to 30 s for its Node (e2e-node-0) to exist with
    // addresses, and exits when that Node's addresses change later, so it must find the Node in place.
    if (agentWanted) {
      log(`node agent (${cfg.nodeCount} nodes)`);
      await startAgent(ctx);
    } else {
      log(
        existsSync(cfg.paths.agentMain)
          ? 'node agent: skipped (--no-agent)'
          : `node agent: skipped (${cfg.paths.agentMain} not built)`,
      );
      await registerPlaceholderNode(cfg, bins.kubectl);
    }
    log('kube-proxy');
    await waitComponents(ctx, { 'kube-proxy': await startKubeProxy(ctx) });
  } catch (err) {
    if (!opts.keepOnFailure) {
      log(`start-up failed; tearing down (logs stay in ${cfg.paths.logs})`);
      await down(cfg, { log }).catch((e: unknown) =>
        log(`teardown after the failure failed too: ${String(e)}`),
      );
    }
    throw err;
  }
  return {
    seconds: (Date.now() - t0) / 1000,
    kubeconfig: cfg.paths.kubeconfig,
    kubectlWrapper: cfg.paths.kubectlWrapper,
    kubectl: bins.kubectl,
    helm: bins.helm,
    agent: agentWanted,
  };
}

export interface DownOptions {
  /** Also delete logs/ and state.last.json: the whole run dir. */
  purge?: boolean;
  log?: Log;
}

export interface DownReport {
  ok: boolean;
  stopped: string[];
  problems: string[];
}

/**
 * The agent's own record of what it spawned: <runDir>/agent/pids/<pid>, content = the process's start time
 * (field 22 of /proc/<pid>/stat). The start time survives the exec chain from the container launcher to the
 * container's command, so it, not the cmdline, tells a recorded process from a recycled PID; a record
 * without one is ignored rather than trusted.
 */
function agentChildren(cfg: E2eConfig): RecordedProcess[] {
  if (!existsSync(cfg.paths.agentPids)) return [];
  const children: RecordedProcess[] = [];
  for (const f of readdirSync(cfg.paths.agentPids)) {
    if (!/^\d+$/.test(f)) continue;
    const pid = Number(f);
    const startTime = readFileSync(join(cfg.paths.agentPids, f), 'utf8').trim();
    if (startTime === '') continue;
    children.push({ name: 'agent child', pid, cmdline: readCmdline(pid) ?? '', startTime });
  }
  return children;
}

export async function down(cfg: E2eConfig, opts: DownOptions = {}): Promise<DownReport> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const report: DownReport = { ok: true, stopped: [], problems: [] };
  const state = readState(cfg.paths.state);
  const procs = state?.processes ?? [];
  const note = (p: RecordedProcess, outcome: string): void => {
    if (outcome === 'not running') return;
    const line = `${p.name} (pid ${p.pid}): ${outcome}`;
    if (outcome === 'survived SIGKILL') report.problems.push(line);
    else report.stopped.push(line);
    log(`  ${line}`);
  };

  // 1. The agent first: it stops its pods and deletes their netns. Then whatever it spawned that is left.
  //    The agent's list is read before and after it stops: it may drop entries of pods it stopped, and the
  //    teardown test should still check those.
  const before = agentChildren(cfg);
  for (const p of procs.filter((x) => x.name === AGENT_NAME)) note(p, await stopProcess(p, AGENT_GRACE_MS));
  const children = [...before];
  for (const c of agentChildren(cfg)) {
    if (!children.some((b) => b.pid === c.pid && b.startTime === c.startTime)) children.push(c);
  }
  for (const c of children) note(c, await killProcess(c));

  // 2. The control plane in reverse start order: the clients of the apiserver together, then the
  //    apiserver, then its storage (so nothing logs spurious connection errors on the way down).
  const rest = procs.filter((x) => x.name !== AGENT_NAME);
  const last = ['etcd', 'kube-apiserver'];
  await Promise.all(
    rest
      .filter((p) => !last.includes(p.name))
      .map(async (p) => note(p, await stopProcess(p, COMPONENT_GRACE_MS))),
  );
  for (const name of [...last].reverse()) {
    for (const p of rest.filter((x) => x.name === name)) note(p, await stopProcess(p, COMPONENT_GRACE_MS));
  }

  // 3. Network namespaces of this run: pods' first, the env netns last. A netns that still holds a process
  //    nobody recorded is left alone and reported: deleting its name would hide that process, not stop it.
  const names = (await listNetns()).filter((n) => isPodNetns(cfg.prefix, n));
  if ((await listNetns()).includes(cfg.prefix)) names.push(cfg.prefix);
  for (const ns of names) {
    const pids = await netnsPids(ns);
    if (pids.length > 0) {
      report.problems.push(`netns ${ns} still has processes (${pids.join(' ')}); not deleted`);
      continue;
    }
    try {
      await deleteNetns(ns);
      report.stopped.push(`netns ${ns}: deleted`);
      log(`  netns ${ns}: deleted`);
    } catch (err) {
      report.problems.push(`netns ${ns}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // 4. Files. Never rm -r a tree with a mount inside it: that would delete through into the mounted data.
  const mounts = runMounts(cfg.prefix, cfg.runDir);
  if (mounts.length > 0) {
    report.problems.push(`mounts under the run dir, files left in place:\n${mounts.join('\n')}`);
  } else if (existsSync(cfg.runDir)) {
    if (state) {
      const finished: EnvState = { ...state, agentChildren: children, stoppedAt: new Date().toISOString() };
      writeState(cfg.paths.lastState, finished);
    }
    const keep = opts.purge ? [] : ['logs', 'state.last.json'];
    for (const entry of readdirSync(cfg.runDir)) {
      if (!keep.includes(entry)) rmSync(join(cfg.runDir, entry), { recursive: true, force: true });
    }
    if (opts.purge) rmSync(cfg.runDir, { recursive: true, force: true });
  }

  report.ok = report.problems.length === 0;
  for (const p of report.problems) log(`  PROBLEM: ${p}`);
  return report;
}
