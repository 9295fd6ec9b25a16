// helm as the e2e suite runs it: the binary hack/e2e/build-binaries.mjs built — CAIRN_E2E_HELM (set by
// `npm run test:e2e`, as CAIRN_E2E_KUBECTL is), else the path current.json records in the binary cache,
// so a suite file run by hand inside the environment finds it too. Helm's own cache, config and data
// live in the run dir: nothing of ~/.config/helm is read or written.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { e2eEnv } from './kube.js';

const HELM_TIMEOUT_MS = 300_000;

export function helmBinary(): string {
  const fromEnv = process.env['CAIRN_E2E_HELM'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const cache = process.env['CAIRN_E2E_CACHE'] ?? join(homedir(), '.cache', 'cairn-e2e');
  const current = join(cache, 'current.json');
  const path = existsSync(current)
    ? (JSON.parse(readFileSync(current, 'utf8')) as { helm?: { path?: string } }).helm?.path
    : undefined;
  if (path === undefined) throw new Error(`no helm: CAIRN_E2E_HELM is not set and ${current} names none`);
  return path;
}

/** Runs helm against the environment's cluster (KUBECONFIG); resolves with its stdout. */
export function helm(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const home = join(e2eEnv('CAIRN_E2E_RUN_DIR'), 'helm');
  const env = {
    ...process.env,
    KUBECONFIG: e2eEnv('KUBECONFIG'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  return new Promise((resolve, reject) => {
    execFile(
      helmBinary(),
      args,
      { env, timeout: opts.timeoutMs ?? HELM_TIMEOUT_MS, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        err !== null
          ? reject(new Error(`helm ${args.join(' ')}: ${stderr.trim() || err.message}`))
          : resolve(stdout),
    );
  });
}
