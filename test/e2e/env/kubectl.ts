// kubectl as the environment runs it: inside the env netns, with the admin kubeconfig.
import type { E2eConfig } from './config.js';
import { run, type RunResult } from './exec.js';

export function kubectl(
  cfg: E2eConfig,
  kubectlBin: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<RunResult> {
  return run('ip', ['netns', 'exec', cfg.prefix, kubectlBin, '--kubeconfig', cfg.paths.kubeconfig, ...args], {
    timeoutMs: opts.timeoutMs ?? 30_000,
    input: opts.input,
    allowFailure: opts.allowFailure,
  });
}
