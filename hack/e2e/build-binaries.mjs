// Builds the Go binaries of the Kubernetes end-to-end environment from Go modules (no Docker, no release
// downloads), into a cache outside the repository, once per version:
//
//   ${CAIRN_E2E_CACHE:-~/.cache/cairn-e2e}/
//     v1.36.N/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy,kubectl}
//     v1.36.N/helper/            generated helper module (go.mod with the staging `replace` block, tools.go)
//     coredns-vX.Y.Z/bin/coredns (+ helper/)
//     helm-vX.Y.Z/bin/helm       (+ helper/)
//     current.json               versions and absolute paths of the last successful run (read by e2e:up)
//
//   npm run e2e:build            # or: node hack/e2e/build-binaries.mjs [--force] [--verbose]
//
// Versions: the newest v1.36.x of k8s.io/kubernetes, and the newest releases of github.com/coredns/coredns
// and helm.sh/helm/v4 whose go directive this Go toolchain satisfies (GOTOOLCHAIN=local never downloads a
// newer Go). CAIRN_E2E_K8S_VERSION, CAIRN_E2E_COREDNS_VERSION and CAIRN_E2E_HELM_VERSION pin them.
//
// A binary that exists and reports its version (`--version`, `version --client`, ...) is skipped.
// --force (or CAIRN_E2E_REBUILD=1) regenerates the helper modules and rebuilds every binary.
// --verbose streams go's output; otherwise it is buffered and printed only when a command fails.
//
// The Kubernetes binaries cannot come from `go install k8s.io/kubernetes/cmd/...@v1.36.N`: that module's
// go.mod requires every staging module (k8s.io/api, ...) at v0.0.0 through `replace => ./staging/...`, and
// `go install pkg@version` refuses modules with replace directives. So a throwaway main module requires
// k8s.io/kubernetes and replaces each staging module with its published v0.36.N; the list comes from
// k8s.io/kubernetes's own go.mod at that version. See ../shared/reference/controlplane.md §1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const K8S_LINE = 'v1.36';
const K8S_MODULE = 'k8s.io/kubernetes';
const K8S_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl'];
const COREDNS_MODULE = 'github.com/coredns/coredns';
const HELM_MODULE = 'helm.sh/helm/v4';
const PROXY_CHECK_TIMEOUT_MS = 90_000;
const QUERY_TIMEOUT_MS = 120_000;
const TIDY_TIMEOUT_MS = 30 * 60_000;
const BUILD_TIMEOUT_MS = 40 * 60_000;
const VERSION_TIMEOUT_MS = 20_000;

const args = process.argv.slice(2);
for (const a of args) {
  if (!['--force', '--verbose', '--help', '-h'].includes(a)) {
    console.error(`build-binaries: unknown argument ${a} (use --force, --verbose)`);
    process.exit(2);
  }
}
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node hack/e2e/build-binaries.mjs [--force] [--verbose]  (see the header of this file)');
  process.exit(0);
}
const force = args.includes('--force') || process.env.CAIRN_E2E_REBUILD === '1';
const verbose = args.includes('--verbose');
const cacheRoot = path.resolve(process.env.CAIRN_E2E_CACHE || path.join(os.homedir(), '.cache', 'cairn-e2e'));

const t0 = Date.now();
const fmt = (ms) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
const log = (msg) => console.log(`[${fmt(Date.now() - t0).padStart(6)}] ${msg}`);

class Failure extends Error {}

// The environment of every go command: the local toolchain only, static binaries, module mode that may
// update the helper's go.mod/go.sum, no workspace. GOPATH/GOMODCACHE/GOCACHE stay the user's.
const userGoflags = (process.env.GOFLAGS || '').split(/\s+/).filter((f) => f && !f.startsWith('-mod='));
const goEnv = {
  ...process.env,
  GOTOOLCHAIN: 'local',
  CGO_ENABLED: '0',
  GOFLAGS: [...userGoflags, '-mod=mod'].join(' '),
  GOWORK: 'off',
};

/** Children in flight, stopped (by PID) when this script is interrupted. */
const running = new Set();
let releaseLock = () => {};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping ${running.size} running command(s)`);
    for (const child of running) child.kill('SIGTERM');
    releaseLock();
    process.exit(130);
  });
}

/** Runs a command; resolves {code, out} (stdout+stderr interleaved). Prints a heartbeat for long runs. */
function run(cmd, argv, { cwd, timeoutMs, label, stream = verbose, env = goEnv } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    let stdout = '';
    const onData = (isStdout) => (buf) => {
      const s = buf.toString();
      out += s;
      if (isStdout) stdout += s;
      if (stream) process.stderr.write(s);
    };
    child.stdout.on('data', onData(true));
    child.stderr.on('data', onData(false));
    const started = Date.now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, timeoutMs);
    const beat = label
      ? setInterval(() => log(`  ... ${label} still running (${fmt(Date.now() - started)})`), 60_000)
      : null;
    child.on('error', (err) => {
      out += `\n${err.message}\n`;
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      clearTimeout(timer);
      if (beat) clearInterval(beat);
      resolve({ code: timedOut ? 'timeout' : (code ?? signal), out, stdout });
    });
  });
}

/** Runs a go command that must succeed; on failure prints its whole output and throws. */
async function go(argv, opts) {
  const r = await run('go', argv, opts);
  if (r.code !== 0) {
    if (!opts.stream && !verbose) process.stderr.write(r.out.endsWith('\n') ? r.out : `${r.out}\n`);
    const why = r.code === 'timeout' ? `timed out after ${fmt(opts.timeoutMs)}` : `exited with ${r.code}`;
    throw new Failure(`\`go ${argv.join(' ')}\` (in ${opts.cwd}) ${why}`);
  }
  return r.stdout;
}

/** A scratch module for `go list -m` queries (they need a main module when -mod=mod is set). */
function scratchModule() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-query-'));
  fs.writeFileSync(path.join(dir, 'go.mod'), 'module cairn.local/e2e-query\n');
  return dir;
}

const semverParts = (v) =>
  v
    .replace(/^v|^go/, '')
    .split(/[.-]/, 3)
    .map(Number);
function cmpVersion(a, b) {
  const x = semverParts(a);
  const y = semverParts(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d) return d;
  }
  return 0;
}

async function moduleInfo(mod, version, cwd) {
  const out = await go(['list', '-m', '-json', `${mod}@${version}`], { cwd, timeoutMs: QUERY_TIMEOUT_MS });
  return JSON.parse(out);
}

/**
 * The newest release (no pre-release suffix) of a module starting with `prefix` whose go directive the
 * local toolchain satisfies, or the pinned one.
 */
async function pickVersion(mod, { prefix = 'v', pinned, goVersion, cwd }) {
  if (pinned) {
    const info = await moduleInfo(mod, pinned, cwd);
    if (info.GoVersion && cmpVersion(info.GoVersion, goVersion) > 0) {
      throw new Failure(`${mod}@${pinned} needs go ${info.GoVersion}; this is go ${goVersion}`);
    }
    return info;
  }
  const out = await go(['list', '-m', '-versions', '-json', mod], { cwd, timeoutMs: QUERY_TIMEOUT_MS });
  const versions = (JSON.parse(out).Versions || [])
    .filter((v) => (v === prefix || v.startsWith(`${prefix}.`) || prefix === 'v') && !v.includes('-'))
    .sort(cmpVersion)
    .reverse();
  for (const v of versions) {
    const info = await moduleInfo(mod, v, cwd);
    if (!info.GoVersion || cmpVersion(info.GoVersion, goVersion) <= 0) return info;
    log(`  ${mod}@${v} needs go ${info.GoVersion} (this is go ${goVersion}); trying an older release`);
  }
  throw new Failure(`no release ${prefix}* of ${mod} builds with go ${goVersion}`);
}

/** The `go` and `godebug` lines of a go.mod, so the helper keeps the upstream GODEBUG defaults. */
function goAndGodebugLines(goModText) {
  const lines = goModText.split('\n');
  const goLine = lines.find((l) => /^go\s+\d/.test(l));
  const godebug = [];
  let inBlock = false;
  for (const l of lines) {
    if (/^godebug\s*\(/.test(l)) inBlock = true;
    else if (inBlock && /^\)/.test(l)) inBlock = false;
    else if (inBlock && l.trim() && !l.trim().startsWith('//')) godebug.push(`godebug ${l.trim()}`);
    else if (/^godebug\s+\S/.test(l)) godebug.push(l.trim());
  }
  return [goLine ? goLine.trim() : null, ...godebug].filter(Boolean);
}

/** Staging modules of k8s.io/kubernetes: every `k8s.io/<m> => ./staging/src/k8s.io/<m>` replace. */
function stagingModules(goModText) {
  const mods = new Set();
  for (const m of goModText.matchAll(
    /^\s*(?:replace\s+)?(k8s\.io\/[A-Za-z0-9._-]+)\s+=>\s+\.\/staging\//gm,
  )) {
    mods.add(m[1]);
  }
  return [...mods].sort();
}

/** Writes the helper module (go.mod + tools.go) unless an identical one is there; returns true if new. */
function writeHelper(dir, goMod, mainPackages) {
  const tools = [
    '//go:build tools',
    '',
    '// Generated by hack/e2e/build-binaries.mjs: keeps the main packages in the module graph.',
    'package tools',
    '',
    'import (',
    ...mainPackages.map((p) => `\t_ "${p}"`),
    ')',
    '',
  ].join('\n');
  const stamp = path.join(dir, '.generated-go.mod');
  if (!force && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === goMod) {
    if (fs.existsSync(path.join(dir, 'go.sum'))) return false;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'go.mod'), goMod);
  fs.writeFileSync(path.join(dir, 'tools.go'), tools);
  fs.writeFileSync(stamp, goMod);
  return true;
}

/** Does `bin` exist and print `expect` when asked for its version? */
async function answersVersion(bin, versionArgs, expect) {
  if (!fs.existsSync(bin)) return false;
  const r = await run(bin, versionArgs, { timeoutMs: VERSION_TIMEOUT_MS, stream: false, env: process.env });
  return r.code === 0 && r.out.includes(expect);
}

/**
 * Builds one binary of a helper module into binDir unless it is there and answers its version.
 * Returns {name, seconds|null (skipped)}.
 */
async function buildBinary({ helperDir, binDir, name, pkg, ldflags, versionArgs, expect }) {
  const bin = path.join(binDir, name);
  if (!force && (await answersVersion(bin, versionArgs, expect))) {
    log(`${name}: cached (${bin})`);
    return { name, seconds: null };
  }
  const started = Date.now();
  log(`${name}: building ${pkg}`);
  const tmp = path.join(binDir, `.${name}.tmp-${process.pid}`);
  try {
    await go(['build', '-trimpath', '-ldflags', ldflags, '-o', tmp, pkg], {
      cwd: helperDir,
      timeoutMs: BUILD_TIMEOUT_MS,
      label: `go build ${name}`,
    });
    fs.renameSync(tmp, bin);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  if (!(await answersVersion(bin, versionArgs, expect))) {
    const r = await run(bin, versionArgs, { timeoutMs: VERSION_TIMEOUT_MS, stream: false, env: process.env });
    throw new Failure(`${bin} was built but \`${name} ${versionArgs.join(' ')}\` says: ${r.out.trim()}`);
  }
  const seconds = (Date.now() - started) / 1000;
  log(`${name}: built in ${fmt(seconds * 1000)}`);
  return { name, seconds };
}

async function preflight(cwd) {
  const r = await run('go', ['env', 'GOVERSION', 'GOPROXY', 'GOMODCACHE', 'GOCACHE'], {
    cwd,
    timeoutMs: QUERY_TIMEOUT_MS,
  });
  if (r.code !== 0) {
    throw new Failure(`cannot run \`go\` (is Go installed and on the PATH?): ${r.out.trim()}`);
  }
  const [goVersionRaw, proxy, modcache, gocache] = r.stdout.trim().split('\n');
  const goVersion = goVersionRaw.replace(/^go/, '');
  log(`go ${goVersion}, GOPROXY=${proxy}, GOMODCACHE=${modcache}, GOCACHE=${gocache}`);
  if (!proxy || proxy === 'off') {
    throw new Failure(
      `GOPROXY is "${proxy}": the e2e binaries are built from Go modules and need the module proxy ` +
        '(set GOPROXY, e.g. https://proxy.golang.org,direct)',
    );
  }
  const started = Date.now();
  const probe = await run('go', ['list', '-m', '-json', `${K8S_MODULE}@latest`], {
    cwd,
    timeoutMs: PROXY_CHECK_TIMEOUT_MS,
  });
  if (probe.code !== 0) {
    const why =
      probe.code === 'timeout' ? `no answer within ${fmt(PROXY_CHECK_TIMEOUT_MS)}` : probe.out.trim();
    throw new Failure(
      `the Go module proxy cannot be reached (GOPROXY=${proxy}): \`go list -m ${K8S_MODULE}@latest\` ` +
        `failed: ${why}\nThe e2e binaries are built from Go modules through the proxy; check the network ` +
        'and GOPROXY (`go env GOPROXY`).',
    );
  }
  log(
    `module proxy reachable (${K8S_MODULE}@latest = ${JSON.parse(probe.stdout).Version}, ${fmt(Date.now() - started)})`,
  );
  return goVersion;
}

function acquireLock() {
  fs.mkdirSync(cacheRoot, { recursive: true });
  const lock = path.join(cacheRoot, '.build.lock');
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch {
    const pid = Number(fs.readFileSync(lock, 'utf8'));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (alive && pid !== process.pid) throw new Failure(`another build (pid ${pid}) holds ${lock}`);
    fs.writeFileSync(lock, String(process.pid));
  }
  return () => fs.rmSync(lock, { force: true });
}

async function main() {
  log(`cache: ${cacheRoot}${force ? ' (--force: rebuilding everything)' : ''}`);
  releaseLock = acquireLock();
  const query = scratchModule();
  const results = [];
  try {
    const goVersion = await preflight(query);

    // --- versions
    let started = Date.now();
    const k8s = await pickVersion(K8S_MODULE, {
      prefix: K8S_LINE,
      pinned: process.env.CAIRN_E2E_K8S_VERSION,
      goVersion,
      cwd: query,
    });
    const coredns = await pickVersion(COREDNS_MODULE, {
      pinned: process.env.CAIRN_E2E_COREDNS_VERSION,
      goVersion,
      cwd: query,
    });
    const helm = await pickVersion(HELM_MODULE, {
      pinned: process.env.CAIRN_E2E_HELM_VERSION,
      goVersion,
      cwd: query,
    });
    log(
      `versions: kubernetes ${k8s.Version}, coredns ${coredns.Version}, helm ${helm.Version} ` +
        `(${fmt(Date.now() - started)})`,
    );

    // --- Kubernetes: helper module with the staging replace block
    const k8sGoMod = fs.readFileSync(k8s.GoMod, 'utf8');
    const staging = stagingModules(k8sGoMod);
    if (staging.length === 0) {
      throw new Failure(
        `found no "k8s.io/... => ./staging/..." replace in ${K8S_MODULE}@${k8s.Version}'s go.mod`,
      );
    }
    const [major, minor, patch] = semverParts(k8s.Version);
    const stagingVersion = `v0.${minor}.${patch}`;
    const k8sDir = path.join(cacheRoot, k8s.Version);
    const k8sHelper = path.join(k8sDir, 'helper');
    const k8sBin = path.join(k8sDir, 'bin');
    const helperGoMod = [
      '// Generated by hack/e2e/build-binaries.mjs from the go.mod of ' + `${K8S_MODULE}@${k8s.Version}.`,
      'module cairn.local/e2e-k8s-binaries',
      '',
      ...goAndGodebugLines(k8sGoMod),
      '',
      `require ${K8S_MODULE} ${k8s.Version}`,
      '',
      'replace (',
      ...staging.map((m) => `\t${m} => ${m} ${stagingVersion}`),
      ')',
      '',
    ].join('\n');
    const k8sPackages = K8S_BINARIES.map((b) => `${K8S_MODULE}/cmd/${b}`);
    await prepareHelper(
      k8sHelper,
      helperGoMod,
      k8sPackages,
      `kubernetes ${k8s.Version} (${staging.length} staging modules at ${stagingVersion})`,
    );
    fs.mkdirSync(k8sBin, { recursive: true });
    // Upstream hack/lib/version.sh stamps both packages. The module proxy does not carry the git commit,
    // so gitCommit is "unknown"; buildDate is the release's time (from the proxy), so builds repeat.
    const stamp = {
      gitVersion: k8s.Version,
      gitMajor: String(major),
      gitMinor: String(minor),
      gitCommit: 'unknown',
      gitTreeState: 'clean',
      buildDate: k8s.Time
        ? k8s.Time.replace(/\.\d+Z$/, 'Z')
        : new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    const k8sLdflags = [
      '-s',
      '-w',
      ...Object.entries(stamp).flatMap(([k, v]) => [
        `-X k8s.io/component-base/version.${k}=${v}`,
        `-X k8s.io/client-go/pkg/version.${k}=${v}`,
      ]),
    ].join(' ');
    for (const name of K8S_BINARIES) {
      results.push(
        await buildBinary({
          helperDir: k8sHelper,
          binDir: k8sBin,
          name,
          pkg: `${K8S_MODULE}/cmd/${name}`,
          ldflags: k8sLdflags,
          versionArgs: name === 'kubectl' ? ['version', '--client'] : ['--version'],
          expect: k8s.Version,
        }),
      );
    }

    // --- CoreDNS and helm: plain modules (no replace directives), each in its own helper module
    const tools = [
      {
        info: coredns,
        name: 'coredns',
        pkg: COREDNS_MODULE,
        ldflags: `-s -w -X ${COREDNS_MODULE}/coremain.GitCommit=${coredns.Version}`,
        versionArgs: ['-version'],
        expect: coredns.Version.replace(/^v/, ''),
      },
      {
        info: helm,
        name: 'helm',
        pkg: `${HELM_MODULE}/cmd/helm`,
        ldflags: [
          '-s -w',
          `-X ${HELM_MODULE}/internal/version.version=${helm.Version}`,
          `-X ${HELM_MODULE}/internal/version.gitTreeState=clean`,
        ].join(' '),
        versionArgs: ['version', '--short'],
        expect: helm.Version,
      },
    ];
    const paths = {};
    for (const t of tools) {
      const dir = path.join(cacheRoot, `${t.name}-${t.info.Version}`);
      const goMod = [
        `// Generated by hack/e2e/build-binaries.mjs for ${t.info.Path}@${t.info.Version}.`,
        `module cairn.local/e2e-${t.name}`,
        '',
        ...goAndGodebugLines(fs.readFileSync(t.info.GoMod, 'utf8')),
        '',
        `require ${t.info.Path} ${t.info.Version}`,
        '',
      ].join('\n');
      await prepareHelper(path.join(dir, 'helper'), goMod, [t.pkg], `${t.name} ${t.info.Version}`);
      fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
      results.push(
        await buildBinary({
          helperDir: path.join(dir, 'helper'),
          binDir: path.join(dir, 'bin'),
          name: t.name,
          pkg: t.pkg,
          ldflags: t.ldflags,
          versionArgs: t.versionArgs,
          expect: t.expect,
        }),
      );
      paths[t.name] = path.join(dir, 'bin', t.name);
    }

    const current = {
      kubernetes: { version: k8s.Version, bin: k8sBin },
      coredns: { version: coredns.Version, path: paths.coredns },
      helm: { version: helm.Version, path: paths.helm },
      go: goVersion,
      builtAt: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(cacheRoot, 'current.json'), `${JSON.stringify(current, null, 2)}\n`);

    const built = results.filter((r) => r.seconds !== null);
    log(
      `done in ${fmt(Date.now() - t0)}: ${built.length} built` +
        (built.length ? ` (${built.map((r) => `${r.name} ${fmt(r.seconds * 1000)}`).join(', ')})` : '') +
        `, ${results.length - built.length} cached`,
    );
    console.log(`\nKubernetes binaries: ${k8sBin}\ncoredns: ${paths.coredns}\nhelm: ${paths.helm}`);
    console.log(`(also in ${path.join(cacheRoot, 'current.json')})`);
    console.log(`e.g. PATH=${k8sBin}:$PATH kubectl version --client`);
  } finally {
    fs.rmSync(query, { recursive: true, force: true });
    releaseLock();
  }
}

/** Generates a helper module if needed and resolves its module graph (`go mod tidy`). */
async function prepareHelper(dir, goMod, packages, what) {
  if (!writeHelper(dir, goMod, packages)) {
    log(`helper module for ${what}: up to date (${dir})`);
    return;
  }
  const started = Date.now();
  log(`helper module for ${what}: resolving modules (go mod tidy) in ${dir}`);
  try {
    await go(['mod', 'tidy'], { cwd: dir, timeoutMs: TIDY_TIMEOUT_MS, label: 'go mod tidy' });
  } catch (err) {
    fs.rmSync(path.join(dir, 'go.sum'), { force: true }); // retried next run
    throw err;
  }
  log(`helper module for ${what}: ready in ${fmt(Date.now() - started)}`);
}

main().catch((err) => {
  if (err instanceof Failure) console.error(`\nbuild-binaries: ${err.message}`);
  else console.error(err);
  log('failed');
  process.exit(1);
});
