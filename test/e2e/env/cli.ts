// The commands behind hack/e2e/{up,down,test}.mjs (npm run e2e:up / e2e:down / test:e2e). Each returns an
// exit code instead of calling process.exit, so the hack scripts stay one line.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type E2eConfig } from './config.js';
import { down, up } from './environment.js';

const SUITE_TIMEOUT_MS = 60 * 60_000;
const TEARDOWN_TIMEOUT_MS = 5 * 60_000;

function commonOptions() {
  return {
    prefix: { type: 'string' },
    'run-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
}

function printUpSummary(cfg: E2eConfig, r: Awaited<ReturnType<typeof up>>): void {
  console.log(`
environment ${cfg.prefix} is up (${r.seconds.toFixed(1)} s${r.agent ? `, ${cfg.nodeCount} nodes` : ', no agent'})
  KUBECONFIG=${r.kubeconfig}   (server https://${cfg.net.gatewayIp}:${cfg.ports.apiserver}, only inside the netns)
  use ${r.kubectlWrapper} get nodes
  a shell inside the netns: ip netns exec ${cfg.prefix} bash
  logs: ${cfg.paths.logs}/   state: ${cfg.paths.state}
  stop it with: npm run e2e:down`);
}

export async function runUp(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...commonOptions(), 'no-agent': { type: 'boolean' }, 'keep-on-failure': { type: 'boolean' } },
  });
  if (values.help) {
    console.log('usage: npm run e2e:up -- [--no-agent] [--keep-on-failure] [--prefix P] [--run-dir D]');
    return 0;
  }
  const cfg = loadConfig({ prefix: values.prefix, runDir: values['run-dir'] });
  // The components are detached and would outlive a Ctrl-C; abort instead, so up() tears down what it
  // started so far (unless --keep-on-failure).
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    console.error(`\n${sig}: aborting the start-up`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await up(cfg, {
      agent: !values['no-agent'],
      keepOnFailure: values['keep-on-failure'],
      signal: abort.signal,
    });
    printUpSummary(cfg, r);
    return 0;
  } catch (err) {
    console.error(`e2e:up failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

export async function runDown(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...commonOptions(), purge: { type: 'boolean' } } });
  if (values.help) {
    console.log('usage: npm run e2e:down -- [--purge] [--prefix P] [--run-dir D]');
    return 0;
  }
  const cfg = loadConfig({ prefix: values.prefix, runDir: values['run-dir'] });
  console.log(`stopping environment ${cfg.prefix} (${cfg.runDir})`);
  const report = await down(cfg, { purge: values.purge });
  if (report.stopped.length === 0 && report.ok) console.log('  nothing was running');
  console.log(report.ok ? 'down: done' : 'down: finished with problems (above)');
  return report.ok ? 0 : 1;
}

/** Runs argv as a child with inherited stdio; bounded in time; resolves to its exit code. */
function runChild(argv: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: 'inherit', env, cwd });
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      console.error(`${argv.join(' ')}: timed out after ${timeoutMs / 1000} s; stopping it`);
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, timeoutMs);
    // A SIGTERM to the driver alone (not the process group) is passed on, so the suite ends and down runs.
    const forward = (): void => void child.kill('SIGTERM');
    process.once('SIGTERM', forward);
    child.on('error', (err) => {
      console.error(`${argv[0] ?? ''}: ${err.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      process.removeListener('SIGTERM', forward);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

export async function runTest(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...commonOptions(), 'no-agent': { type: 'boolean' } },
  });
  if (values.help) {
    console.log('usage: npm run test:e2e -- [--no-agent] [--prefix P] [--run-dir D]');
    return 0;
  }
  const cfg = loadConfig({ prefix: values.prefix, runDir: values['run-dir'] });
  // Ctrl-C reaches the suite (same process group) and aborts a start-up in progress; either way the
  // environment is torn down below before this process exits.
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = true;
    console.error(`\n${sig}: stopping; the environment will be torn down`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let suiteCode = 1;
  try {
    const r = await up(cfg, { agent: !values['no-agent'], signal: abort.signal });
    console.log(`environment up in ${r.seconds.toFixed(1)} s; running the suite inside netns ${cfg.prefix}`);
    if (!interrupted) {
      suiteCode = await runChild(
        [
          'ip', 'netns', 'exec', cfg.prefix, process.execPath,
          '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=900000',
          join('dist', 'test', 'e2e', 'suite') + '/',
        ], // prettier-ignore
        {
          ...process.env,
          CAIRN_E2E_RUN_DIR: cfg.runDir,
          CAIRN_E2E_PREFIX: cfg.prefix,
          KUBECONFIG: r.kubeconfig,
          CAIRN_E2E_KUBECTL: r.kubectl,
          CAIRN_E2E_HELM: r.helm,
        },
        cfg.repoRoot,
        SUITE_TIMEOUT_MS,
      );
    }
  } catch (err) {
    console.error(`e2e: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    console.log('tearing the environment down');
    const report = await down(cfg);
    if (!report.ok) console.error('down finished with problems (above)');
  }
  console.log('checking that nothing was left behind');
  const teardownCode = await runChild(
    [process.execPath, '--test', '--test-reporter=spec', join('dist', 'test', 'e2e', 'teardown') + '/'],
    { ...process.env, CAIRN_E2E_RUN_DIR: cfg.runDir, CAIRN_E2E_PREFIX: cfg.prefix },
    cfg.repoRoot,
    TEARDOWN_TIMEOUT_MS,
  );
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  console.log(
    `suite: ${suiteCode === 0 ? 'passed' : 'FAILED'}; teardown: ${teardownCode === 0 ? 'clean' : 'FAILED'}`,
  );
  return suiteCode === 0 && teardownCode === 0 && !interrupted ? 0 : 1;
}
