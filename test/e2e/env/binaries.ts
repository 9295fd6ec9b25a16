// The Go binaries come from hack/e2e/build-binaries.mjs, which records them in <cache>/current.json. Reading
// that file works offline; the build (which needs the Go module proxy) runs only when it is missing.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { E2eConfig } from './config.js';

export interface Binaries {
  kubernetesVersion: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubeProxy: string;
  kubectl: string;
  coredns: string;
  helm: string;
  etcd: string;
}

interface CurrentJson {
  kubernetes?: { version?: string; bin?: string };
  coredns?: { path?: string };
  helm?: { path?: string };
}

const BUILD_TIMEOUT_MS = 60 * 60_000;

function runBuild(cfg: E2eConfig): Promise<void> {
  const script = join(cfg.repoRoot, 'hack', 'e2e', 'build-binaries.mjs');
  return new Promise((resolvePromise, reject) => {
    // stdio inherited: the build prints its own progress, one line per step.
    const child = spawn(process.execPath, [script], { stdio: 'inherit', env: process.env });
    const timer = setTimeout(() => child.kill('SIGTERM'), BUILD_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`${script} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

function executable(path: string, what: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${what} ${path} is missing or not executable (rebuild: npm run e2e:build)`);
  }
  return path;
}

export async function resolveBinaries(cfg: E2eConfig, log: (line: string) => void): Promise<Binaries> {
  const currentPath = join(cfg.cacheDir, 'current.json');
  if (!existsSync(currentPath)) {
    log(`${currentPath} is missing: building the binaries first (node hack/e2e/build-binaries.mjs)`);
    await runBuild(cfg);
  }
  const current = JSON.parse(readFileSync(currentPath, 'utf8')) as CurrentJson;
  const bin = current.kubernetes?.bin;
  const coredns = current.coredns?.path;
  const helm = current.helm?.path;
  if (!bin || !coredns || !helm || !current.kubernetes?.version) {
    throw new Error(`${currentPath} lacks kubernetes.bin/version, coredns.path or helm.path`);
  }
  const k = (name: string): string => executable(join(bin, name), name);
  return {
    kubernetesVersion: current.kubernetes.version,
    kubeApiserver: k('kube-apiserver'),
    kubeControllerManager: k('kube-controller-manager'),
    kubeScheduler: k('kube-scheduler'),
    kubeProxy: k('kube-proxy'),
    kubectl: k('kubectl'),
    coredns: executable(coredns, 'coredns'),
    helm: executable(helm, 'helm'),
    etcd: executable(cfg.etcdBinary, 'etcd (CAIRN_E2E_ETCD)'),
  };
}
