// The container image (Dockerfile, .dockerignore) without Docker, which these machines cannot run.
//
// 1. The Dockerfile is parsed (stages, ARG/ENV substitution, COPY, RUN, labels, …); every file COPY takes
//    from the build context exists and survives .dockerignore (matched by @balena/dockerignore, a port of
//    Docker's own matcher).
// 2. Both stages are replayed in a temp dir standing for each stage's root file system: COPY copies from the
//    filtered context or from the other stage, and RUN is interpreted — exactly the commands the Dockerfile
//    uses, anything else fails this test. `npm ci` with dev dependencies is this checkout's node_modules;
//    `npm ci --omit=dev` is a hard-linked copy of it pruned with `npm prune --omit=dev --offline`; `npm run
//    build` runs for real on the copied context alone. The entry points are then run from the replayed root
//    as the image runs them (through the PATH links, in WORKDIR, with the image's environment, as uid/gid
//    65532 when the test runs as root), a real server is started by the ENTRYPOINT on 127.0.0.1 ports and
//    used with `cairnctl put/get`, and nothing may have been written outside the data dir.
// 3. The user, ports, labels, work dir, volume and environment are the documented ones, tied to the
//    operator's constants (uid, ports, data dir) and to the e2e agent's image layout (IMAGE_APP_DIR).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import dockerignoreModule from '@balena/dockerignore';
import { DEFAULT_IMAGE_REPOSITORY } from '../../operator/src/api/v1alpha1/kvcluster.js';
import {
  CLIENT_PORT,
  DATA_DIR,
  DATA_MOUNT,
  IMAGE_UID,
  METRICS_PORT,
  PEER_PORT,
} from '../../operator/src/resources/names.js';
import { IMAGE_APP_DIR } from '../e2e/agent/images.js';
import { freePort, REPO_ROOT } from '../framework/index.js';

const DOCKERFILE = join(REPO_ROOT, 'Dockerfile');
const DOCKERIGNORE = join(REPO_ROOT, '.dockerignore');
/** Docker's PATH for an image that sets none (the node images keep it). */
const DOCKER_DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PROCESS_TIMEOUT_MS = 30_000;
const BUILD_TIMEOUT_MS = 240_000;
const SERVER_READY_TIMEOUT_MS = 30_000;
const SERVER_STOP_TIMEOUT_MS = 15_000;

interface PackageJson {
  version: string;
  license: string;
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;

// ---------------------------------------------------------------------------------------------------------
// Dockerfile parsing

interface Instruction {
  keyword: string;
  rest: string;
  line: number;
}

/** Instructions with line continuations joined and comment lines dropped (Docker's rules, escape `\`). */
function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#')) return; // comments, also inside a continuation
    if (pending === undefined && trimmed === '') return;
    const continued = /\\\s*$/.test(raw);
    const part = continued ? raw.replace(/\\\s*$/, '') : raw;
    pending ??= { parts: [], line: i + 1 };
    pending.parts.push(part.trim());
    if (continued) return;
    const joined = pending.parts.filter((p) => p !== '').join(' ');
    const m = /^(\S+)\s*(.*)$/s.exec(joined);
    assert.ok(m, `Dockerfile:${pending.line}: cannot parse ${JSON.stringify(joined)}`);
    out.push({ keyword: m[1]!.toUpperCase(), rest: m[2]!, line: pending.line });
    pending = undefined;
  });
  assert.equal(pending, undefined, 'Dockerfile ends inside a line continuation');
  return out;
}

/**
 * Shell-like words: whitespace-separated, '…' literal, "…" and bare words with backslash escapes. With
 * `vars`, `$NAME` and `${NAME}` are substituted (Docker does so in FROM, ENV, LABEL, WORKDIR, COPY, …);
 * without, any `$`, `;`, `|`, `<`, `>`, a lone `&`, backquote or parenthesis is refused (RUN is interpreted,
 * not given to a shell). `&&` is a word of its own.
 */
function words(text: string, vars?: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  const add = (s: string): void => {
    cur = (cur ?? '') + s;
  };
  const substitute = (i: number): number => {
    if (vars === undefined) throw new Error(`unsupported '$' in ${JSON.stringify(text)}`);
    const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i));
    if (m === null) throw new Error(`unsupported variable form at ${JSON.stringify(text.slice(i))}`);
    const name = m[1] ?? m[2]!;
    add(vars.get(name) ?? '');
    return i + m[0].length;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new Error(`unterminated ' in ${JSON.stringify(text)}`);
      add(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      add('');
      i++;
      while (i < text.length && text[i] !== '"') {
        const d = text[i]!;
        if (d === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) {
          add(text[i + 1]!);
          i += 2;
        } else if (d === '$') {
          i = substitute(i);
        } else if (d === '`') {
          throw new Error(`unsupported backquote in ${JSON.stringify(text)}`);
        } else {
          add(d);
          i++;
        }
      }
      if (i >= text.length) throw new Error(`unterminated " in ${JSON.stringify(text)}`);
      i++;
    } else if (c === '\\' && i + 1 < text.length) {
      add(text[i + 1]!);
      i += 2;
    } else if (c === '&' && text[i + 1] === '&' && vars === undefined) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
      out.push('&&');
      i += 2;
    } else if (c === '$') {
      i = substitute(i);
    } else if (vars === undefined && ';|<>&`()'.includes(c)) {
      throw new Error(`unsupported shell syntax ${JSON.stringify(c)} in ${JSON.stringify(text)}`);
    } else {
      add(c);
      i++;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** `key=value …` (LABEL, ENV); the legacy `ENV key value` form is refused. */
function keyValues(text: string, vars: ReadonlyMap<string, string>): [string, string][] {
  return words(text, vars).map((w) => {
    const eq = w.indexOf('=');
    assert.ok(eq > 0, `expected key=value, got ${JSON.stringify(w)}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Exec form (a JSON array of strings): required for ENTRYPOINT, so signals reach the program itself. */
function execForm(text: string): string[] {
  const v = JSON.parse(text) as unknown;
  assert.ok(Array.isArray(v) && v.every((s) => typeof s === 'string'), `not an exec form: ${text}`);
  return v;
}

interface CopyOp {
  from: string | undefined;
  sources: string[];
  dest: string;
  line: number;
}
interface RunOp {
  commands: string[][];
  line: number;
}
type Op = { kind: 'copy'; copy: CopyOp } | { kind: 'run'; run: RunOp } | { kind: 'workdir'; dir: string };

interface Stage {
  name: string | undefined;
  image: string;
  /** ARG and ENV values visible to substitution. */
  vars: Map<string, string>;
  env: Map<string, string>;
  labels: Map<string, string>;
  ops: Op[];
  workdir: string;
  user: string | undefined;
  exposed: string[];
  volumes: string[];
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
}

interface Dockerfile {
  globalArgs: Map<string, string>;
  stages: Stage[];
}

function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    const where = `Dockerfile:${ins.line} ${ins.keyword}`;
    const stage = stages[stages.length - 1];
    if (ins.keyword === 'ARG') {
      const [w, ...more] = words(ins.rest, stage?.vars ?? globalArgs);
      assert.ok(w !== undefined && more.length === 0, `${where}: one ARG per line`);
      const eq = w.indexOf('=');
      const [name, value] = eq === -1 ? [w, globalArgs.get(w) ?? ''] : [w.slice(0, eq), w.slice(eq + 1)];
      (stage?.vars ?? globalArgs).set(name, value);
      continue;
    }
    if (ins.keyword === 'FROM') {
      const w = words(ins.rest, globalArgs);
      assert.ok(!w.some((x) => x.startsWith('--')), `${where}: flags (--platform) are not supported here`);
      assert.ok(w.length === 1 || (w.length === 3 && w[1]!.toUpperCase() === 'AS'), `${where}: ${ins.rest}`);
      stages.push({
        name: w[2],
        image: w[0]!,
        vars: new Map(),
        env: new Map(),
        labels: new Map(),
        ops: [],
        workdir: '/',
        user: undefined,
        exposed: [],
        volumes: [],
        entrypoint: undefined,
        cmd: undefined,
      });
      continue;
    }
    assert.ok(stage !== undefined, `${where}: before the first FROM`);
    switch (ins.keyword) {
      case 'ENV':
        for (const [k, v] of keyValues(ins.rest, stage.vars)) {
          stage.env.set(k, v);
          stage.vars.set(k, v);
        }
        break;
      case 'LABEL':
        for (const [k, v] of keyValues(ins.rest, stage.vars)) stage.labels.set(k, v);
        break;
      case 'WORKDIR': {
        const w = words(ins.rest, stage.vars);
        assert.equal(w.length, 1, where);
        stage.workdir = posix.resolve(stage.workdir, w[0]!);
        stage.ops.push({ kind: 'workdir', dir: stage.workdir });
        break;
      }
      case 'COPY': {
        const w = words(ins.rest, stage.vars);
        let from: string | undefined;
        while (w[0]?.startsWith('--')) {
          const flag = w.shift()!;
          assert.ok(flag.startsWith('--from='), `${where}: flag ${flag} is not supported here`);
          from = flag.slice('--from='.length);
        }
        assert.ok(w.length >= 2, `${where}: COPY needs a source and a destination`);
        const dest =
          posix.resolve(stage.workdir, w[w.length - 1]!) + (w[w.length - 1]!.endsWith('/') ? '/' : '');
        const sources = w.slice(0, -1);
        for (const s of sources) assert.ok(!/[*?[\]]/.test(s), `${where}: wildcards are not supported here`);
        stage.ops.push({ kind: 'copy', copy: { from, sources, dest, line: ins.line } });
        break;
      }
      case 'RUN': {
        assert.ok(!ins.rest.startsWith('['), `${where}: only the shell form is interpreted`);
        const commands: string[][] = [[]];
        for (const w of words(ins.rest)) {
          if (w === '&&') commands.push([]);
          else commands[commands.length - 1]!.push(w);
        }
        assert.ok(
          commands.every((c) => c.length > 0),
          `${where}: empty command in ${ins.rest}`,
        );
        stage.ops.push({ kind: 'run', run: { commands, line: ins.line } });
        break;
      }
      case 'USER':
        stage.user = words(ins.rest, stage.vars).join(' ');
        break;
      case 'EXPOSE':
        stage.exposed.push(...words(ins.rest, stage.vars));
        break;
      case 'VOLUME':
        stage.volumes.push(...(ins.rest.startsWith('[') ? execForm(ins.rest) : words(ins.rest, stage.vars)));
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(ins.rest);
        break;
      case 'CMD':
        stage.cmd = execForm(ins.rest);
        break;
      default:
        assert.fail(`${where}: instruction not understood by this test (ADD: use COPY)`);
    }
  }
  return { globalArgs, stages };
}

// ---------------------------------------------------------------------------------------------------------
// Build context

// A CommonJS module whose types declare an ES default export: from ESM that is `.default` (the module sets
// `module.exports.default` to itself, so this is the same function at run time).
const dockerignore = dockerignoreModule.default;
const ignoreText = readFileSync(DOCKERIGNORE, 'utf8');
/** Docker matches .dockerignore case-sensitively on Linux; the library defaults to insensitive. */
const ignore = dockerignore({ ignorecase: false }).add(ignoreText);

function contextPath(source: string): string {
  const rel = posix.normalize(source).replace(/^\/+/, '').replace(/\/+$/, '');
  assert.ok(!rel.startsWith('..'), `COPY source ${source} leaves the build context`);
  return rel === '' ? '.' : rel;
}

/** Every file under `rel` (relative to the repository) that Docker would send in the build context. */
function contextFiles(rel: string): string[] {
  const abs = join(REPO_ROOT, rel);
  if (!lstatSync(abs).isDirectory()) return ignore.ignores(rel) ? [] : [rel];
  return readdirSync(abs).flatMap((e) => contextFiles(posix.join(rel, e)));
}

// ---------------------------------------------------------------------------------------------------------
// Replaying the stages

interface ImageUser {
  uid: number;
  gid: number;
  home: string;
}

interface ReplayedStage {
  stage: Stage;
  /** The temp dir standing for the stage's `/`. */
  root: string;
  user: ImageUser | undefined;
  groups: Map<string, number>;
  /** Things the replay could not do as the image would (only when not running as root). */
  notes: string[];
}

const asRoot = process.getuid?.() === 0;

function hostPath(rs: ReplayedStage, p: string): string {
  return join(rs.root, posix.resolve(rs.stage.workdir, p));
}

function spawnChecked(
  command: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? PROCESS_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function copyOp(rs: ReplayedStage, op: CopyOp, stages: Map<string, ReplayedStage>): Promise<void> {
  const where = `Dockerfile:${op.line} COPY`;
  const intoDir = op.dest.endsWith('/') || op.sources.length > 1;
  for (const source of op.sources) {
    let from: string;
    let isDir: boolean;
    let filter: ((src: string) => boolean) | undefined;
    if (op.from === undefined) {
      const rel = contextPath(source);
      from = join(REPO_ROOT, rel);
      assert.ok(existsSync(from), `${where}: ${source} does not exist in the build context`);
      assert.ok(!ignore.ignores(rel), `${where}: ${source} is excluded by .dockerignore`);
      isDir = lstatSync(from).isDirectory();
      const keep = new Set(contextFiles(rel).map((f) => join(REPO_ROOT, f)));
      filter = (src) => lstatSync(src).isDirectory() || keep.has(src);
    } else {
      const other = stages.get(op.from);
      assert.ok(other !== undefined, `${where}: --from=${op.from} names no earlier stage`);
      from = join(other.root, posix.resolve('/', source));
      assert.ok(existsSync(from), `${where}: ${source} was not produced by stage ${op.from}`);
      isDir = lstatSync(from).isDirectory();
    }
    const dest = hostPath(rs, op.dest);
    const target = isDir || !intoDir ? dest : join(dest, posix.basename(source));
    await mkdir(isDir ? target : dirname(target), { recursive: true });
    await cp(from, target, { recursive: true, preserveTimestamps: true, ...(filter ? { filter } : {}) });
  }
}

/** Option words of a command, checked against the ones this replay knows. */
function options(cmd: string[], from: number, known: readonly string[], where: string): Set<string> {
  const opts = new Set(cmd.slice(from));
  for (const o of opts) assert.ok(known.includes(o), `${where}: ${cmd.join(' ')}: ${o} not understood`);
  return opts;
}

function flagValue(cmd: string[], flag: string, where: string): string {
  const i = cmd.indexOf(flag);
  assert.ok(i !== -1 && i + 1 < cmd.length, `${where}: ${cmd.join(' ')} needs ${flag}`);
  return cmd[i + 1]!;
}

async function runCommand(rs: ReplayedStage, cmd: string[], where: string): Promise<void> {
  const cwd = hostPath(rs, '.');
  const [prog, ...args] = cmd;
  const line = cmd.join(' ');
  if (prog === 'npm' && args[0] === 'ci') {
    const opts = options(cmd, 2, ['--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], where);
    for (const f of ['package.json', 'package-lock.json']) {
      assert.equal(
        readFileSync(join(cwd, f), 'utf8'),
        readFileSync(join(REPO_ROOT, f), 'utf8'),
        `${where}: ${line} needs the repository's ${f} copied first`,
      );
    }
    if (!opts.has('--omit=dev')) {
      // Everything in the lock file: this checkout's own `npm ci`.
      await symlink(join(REPO_ROOT, 'node_modules'), join(cwd, 'node_modules'), 'dir');
      return;
    }
    // Production only: the same tree with the dev packages removed, by npm itself and offline. Hard links
    // (cheap), except npm's hidden lock file, which npm rewrites in place.
    const nm = join(cwd, 'node_modules');
    let copied = await spawnChecked('cp', ['-al', join(REPO_ROOT, 'node_modules'), nm], { cwd });
    if (copied.code !== 0) {
      // Another file system than the checkout's: a real copy.
      await rm(nm, { recursive: true, force: true });
      copied = await spawnChecked('cp', ['-a', join(REPO_ROOT, 'node_modules'), nm], {
        cwd,
        timeoutMs: 120_000,
      });
    }
    assert.equal(copied.code, 0, `copying node_modules: ${copied.stderr}`);
    await rm(join(nm, '.package-lock.json'));
    await copyFile(join(REPO_ROOT, 'node_modules/.package-lock.json'), join(nm, '.package-lock.json'));
    const r = await spawnChecked(
      'npm',
      [
        'prune',
        '--omit=dev',
        '--offline',
        '--no-audit',
        '--no-fund',
        ...(opts.has('--ignore-scripts') ? ['--ignore-scripts'] : []),
      ],
      { cwd, timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, `${where}: npm prune --omit=dev failed:\n${r.stdout}${r.stderr}`);
    return;
  }
  if (prog === 'npm' && line === 'npm run build') {
    const r = await spawnChecked('npm', ['run', 'build'], { cwd, timeoutMs: BUILD_TIMEOUT_MS });
    assert.equal(r.code, 0, `${where}: npm run build on the build context failed:\n${r.stdout}${r.stderr}`);
    return;
  }
  if (prog === 'npm' && line === 'npm cache clean --force') return; // npm's download cache only
  if (prog === 'groupadd') {
    options(cmd, 1, ['--gid', flagValue(cmd, '--gid', where), cmd[cmd.length - 1]!], where);
    rs.groups.set(cmd[cmd.length - 1]!, Number(flagValue(cmd, '--gid', where)));
    return;
  }
  if (prog === 'useradd') {
    const uid = Number(flagValue(cmd, '--uid', where));
    const gidWord = flagValue(cmd, '--gid', where);
    const gid = /^\d+$/.test(gidWord) ? Number(gidWord) : rs.groups.get(gidWord);
    assert.ok(
      gid !== undefined && [...rs.groups.values()].includes(gid),
      `${where}: group ${gidWord} unknown`,
    );
    const home = flagValue(cmd, '--home-dir', where);
    const shell = flagValue(cmd, '--shell', where);
    options(
      cmd,
      1,
      [
        '--uid',
        String(uid),
        '--gid',
        gidWord,
        '--no-create-home',
        '--home-dir',
        home,
        '--shell',
        shell,
        cmd[cmd.length - 1]!,
      ],
      where,
    );
    rs.user = { uid, gid, home };
    return;
  }
  if (prog === 'chmod') {
    assert.ok(/^[0-7]{3,4}$/.test(args[0] ?? ''), `${where}: ${line}: only octal modes`);
    for (const p of args.slice(1)) await chmod(hostPath(rs, p), parseInt(args[0]!, 8));
    return;
  }
  if (prog === 'ln') {
    assert.ok(args.length === 3 && args[0] === '-s', `${where}: ${line}: only ln -s TARGET LINK`);
    assert.ok(args[1]!.startsWith('/'), `${where}: ${line}: absolute targets only`);
    const link = hostPath(rs, args[2]!);
    await mkdir(dirname(link), { recursive: true }); // /usr/local/bin exists in the base image
    await symlink(join(rs.root, args[1]!), link);
    return;
  }
  if (prog === 'mkdir') {
    assert.equal(args[0], '-p', `${where}: ${line}: only mkdir -p`);
    for (const p of args.slice(1)) await mkdir(hostPath(rs, p), { recursive: true });
    return;
  }
  if (prog === 'chown') {
    const m = /^(\d+):(\d+)$/.exec(args[0] ?? '');
    assert.ok(m, `${where}: ${line}: only numeric uid:gid`);
    for (const p of args.slice(1)) {
      if (asRoot) await chown(hostPath(rs, p), Number(m[1]), Number(m[2]));
      else rs.notes.push(`not root: ${line} not applied`);
    }
    return;
  }
  assert.fail(`${where}: "${line}" is not understood by this test's RUN replay; extend it`);
}

/** Replays every stage into `tmp`; `timings` gets how long each RUN command took. */
async function replay(df: Dockerfile, tmp: string, timings: string[]): Promise<Map<string, ReplayedStage>> {
  const replayed = new Map<string, ReplayedStage>();
  for (const [i, stage] of df.stages.entries()) {
    const root = join(tmp, `stage-${i}`);
    await mkdir(root, { recursive: true });
    const rs: ReplayedStage = { stage, root, user: undefined, groups: new Map(), notes: [] };
    // Replay the ops in order, tracking WORKDIR as it was at each point.
    const finalWorkdir = stage.workdir;
    stage.workdir = '/';
    for (const op of stage.ops) {
      if (op.kind === 'workdir') {
        stage.workdir = op.dir;
        await mkdir(join(root, op.dir), { recursive: true });
      } else if (op.kind === 'copy') {
        await copyOp(rs, op.copy, replayed);
      } else {
        for (const cmd of op.run.commands) {
          const t0 = Date.now();
          await runCommand(rs, cmd, `Dockerfile:${op.run.line} RUN`);
          if (cmd[0] === 'npm') timings.push(`${cmd.join(' ')}: ${Date.now() - t0} ms`);
        }
      }
    }
    assert.equal(stage.workdir, finalWorkdir);
    replayed.set(stage.name ?? String(i), rs);
    replayed.set(String(i), rs);
  }
  return replayed;
}

// ---------------------------------------------------------------------------------------------------------
// Running the image

/** The replayed final stage as a container: its PATH, WORKDIR, environment and user. */
class Container {
  constructor(
    readonly rs: ReplayedStage,
    /** Container port → 127.0.0.1 port, like `docker run -p`. */
    readonly ports: Map<number, number>,
  ) {}

  /** The image's environment, its paths under the replayed root and its 0.0.0.0 listeners on 127.0.0.1. */
  env(): NodeJS.ProcessEnv {
    const root = this.rs.root;
    const env: NodeJS.ProcessEnv = {
      // The base image's node (/usr/local/bin/node there) is this test's node; sh and env from the host.
      PATH: [
        ...DOCKER_DEFAULT_PATH.split(':').map((d) => join(root, d)),
        dirname(process.execPath),
        '/usr/bin',
        '/bin',
      ].join(':'),
      HOME: this.rs.user?.home ?? '/root',
    };
    for (const [k, v] of this.rs.stage.env) {
      env[k] = v.startsWith('/')
        ? join(root, v)
        : v.replace(/^http:\/\/0\.0\.0\.0:(\d+)$/, (_, p: string) => {
            const host = this.ports.get(Number(p));
            assert.ok(host !== undefined, `ENV ${k}=${v} listens on a port the image does not EXPOSE`);
            return `http://127.0.0.1:${host}`;
          });
    }
    return env;
  }

  private userOpts(): { uid?: number; gid?: number } {
    return asRoot && this.rs.user !== undefined ? { uid: this.rs.user.uid, gid: this.rs.user.gid } : {};
  }

  exec(argv: string[], extraEnv: Record<string, string> = {}): ReturnType<typeof spawnChecked> {
    return spawnChecked(argv[0]!, argv.slice(1), {
      cwd: join(this.rs.root, this.rs.stage.workdir),
      env: { ...this.env(), ...extraEnv },
      ...this.userOpts(),
    });
  }

  start(argv: string[], extraEnv: Record<string, string>): ChildProcess {
    return spawn(argv[0]!, argv.slice(1), {
      cwd: join(this.rs.root, this.rs.stage.workdir),
      env: { ...this.env(), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...this.userOpts(),
    });
  }
}

/** Every path under `dir` (not following links) with its size and mtime, except under `skip`. */
function listing(dir: string, skip: string, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (p === skip) continue;
    const st = lstatSync(p);
    out.set(p, `${st.mode}:${st.size}:${st.mtimeMs}`);
    if (st.isDirectory()) listing(p, skip, out);
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------------------

const df = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const finalStage = df.stages[df.stages.length - 1]!;

/** The `ln -s` links of the final stage: link → target. */
function links(stage: Stage): Map<string, string> {
  const out = new Map<string, string>();
  for (const op of stage.ops) {
    if (op.kind !== 'run') continue;
    for (const c of op.run.commands) if (c[0] === 'ln') out.set(c[3]!, c[2]!);
  }
  return out;
}

describe('Dockerfile: as documented', () => {
  it('two stages on the same Node LTS slim base: build (npm ci with dev dependencies, npm run build), then run (npm ci --omit=dev)', () => {
    assert.equal(df.stages.length, 2);
    const [build, run] = df.stages as [Stage, Stage];
    assert.equal(build.name, 'build');
    assert.equal(build.image, run.image, 'both stages on the same base image');
    const m = /^node:(\d+)-bookworm-slim$/.exec(build.image);
    assert.ok(m, `base image ${build.image}: expected node:<LTS major>-bookworm-slim`);
    const major = Number(m[1]);
    // Even majors become LTS; the AWS SDK requires Node >= 22 from January 2027 (its start-up warning).
    assert.ok(major % 2 === 0 && major >= 22, `node ${major} is not a supported LTS line`);
    const runs = (s: Stage): string[] =>
      s.ops.flatMap((o) => (o.kind === 'run' ? o.run.commands.map((c) => c.join(' ')) : []));
    assert.ok(runs(build).some((c) => c.startsWith('npm ci') && !c.includes('--omit')));
    assert.ok(runs(build).includes('npm run build'));
    assert.ok(runs(run).some((c) => c.startsWith('npm ci') && c.includes('--omit=dev')));
    assert.ok(!runs(run).includes('npm run build'), 'no build in the run stage');
  });

  it('the run stage takes only package.json, package-lock.json and the compiled server and operator', () => {
    const copies = finalStage.ops.flatMap((o) => (o.kind === 'copy' ? [o.copy] : []));
    const fromContext = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    assert.deepEqual(fromContext.sort(), ['package-lock.json', 'package.json']);
    const fromBuild = copies.filter((c) => c.from !== undefined).flatMap((c) => c.sources);
    assert.deepEqual(fromBuild.sort(), ['/src/dist/operator', '/src/dist/server']);
  });

  it('user 65532:65532, WORKDIR /opt/cairn, ports 2379 2380 2381, the data volume, ENTRYPOINT cairn', () => {
    assert.equal(finalStage.user, `${IMAGE_UID}:${IMAGE_UID}`, 'numeric, the uid the operator runs pods as');
    assert.equal(finalStage.workdir, IMAGE_APP_DIR, "the e2e agent's app dir mirrors the image");
    assert.deepEqual(finalStage.exposed, [CLIENT_PORT, PEER_PORT, METRICS_PORT].map(String));
    assert.deepEqual(finalStage.volumes, [DATA_MOUNT]);
    assert.equal(finalStage.env.get('CAIRN_DATA_DIR'), DATA_DIR, "the operator's data dir on the volume");
    assert.equal(finalStage.env.get('CAIRN_LISTEN_CLIENT_URLS'), `http://0.0.0.0:${CLIENT_PORT}`);
    assert.equal(finalStage.env.get('CAIRN_LISTEN_PEER_URLS'), `http://0.0.0.0:${PEER_PORT}`);
    assert.equal(finalStage.env.get('CAIRN_LISTEN_METRICS_URLS'), `http://0.0.0.0:${METRICS_PORT}`);
    assert.deepEqual(finalStage.entrypoint, ['cairn']);
    assert.equal(finalStage.cmd, undefined);
  });

  it('OCI labels: title, description, source, licenses, and the version from the VERSION build arg', () => {
    const l = finalStage.labels;
    assert.equal(l.get('org.opencontainers.image.title'), 'cairn');
    assert.match(l.get('org.opencontainers.image.description') ?? '', /etcd v3 API/);
    assert.equal(
      l.get('org.opencontainers.image.source'),
      `https://github.com/${DEFAULT_IMAGE_REPOSITORY.replace(/^ghcr\.io\//, '')}`,
      'the repository behind the default image ghcr.io/<owner>/<name>',
    );
    assert.equal(l.get('org.opencontainers.image.licenses'), pkg.license);
    assert.equal(
      l.get('org.opencontainers.image.version'),
      pkg.version,
      "VERSION's default is package.json's",
    );
    const withArg = parseDockerfile(
      readFileSync(DOCKERFILE, 'utf8').replace(/^ARG VERSION=.*$/m, 'ARG VERSION=9.9.9-test'),
    );
    assert.equal(withArg.stages[1]!.labels.get('org.opencontainers.image.version'), '9.9.9-test');
  });

  it('PATH has every package.json bin entry, linked to its compiled script under WORKDIR', () => {
    const expected = new Map(
      Object.entries(pkg.bin).map(([name, script]) => [
        `/usr/local/bin/${name}`,
        posix.join(IMAGE_APP_DIR, script),
      ]),
    );
    assert.deepEqual(links(finalStage), expected);
    assert.ok(DOCKER_DEFAULT_PATH.split(':').includes('/usr/local/bin'));
  });

  it('.dockerignore keeps dependencies, build output, history, tests and data out of the context', () => {
    for (const p of [
      'node_modules/lmdb/package.json',
      'dist/server/src/cmd/cairn.js',
      '.git/HEAD',
      'test/integration/image.test.ts',
      'hack/local-cluster.mjs',
      'charts/README.md',
      'crds/cairn.dev_kvclusters.yaml',
      'default.cairn/member/db',
      'local-cluster/infra1.cairn/member/db',
      'npm-debug.log',
      '.ci/run',
      'README.md',
      'server/src/wal/README.md',
    ]) {
      assert.ok(ignore.ignores(p), `${p} should be excluded from the build context`);
    }
    for (const p of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'server/src/cmd/cairn.ts',
      'operator/src/cmd/cairn-operator.ts',
    ]) {
      assert.ok(!ignore.ignores(p), `${p} must be in the build context`);
    }
    // The matcher follows Docker: a later `!pattern` re-includes, parent directories match.
    const m = dockerignore({ ignorecase: false }).add(['*', '!keep', 'keep/drop']);
    assert.deepEqual(
      [m.ignores('a'), m.ignores('keep/x/y'), m.ignores('keep/drop/z'), m.ignores('Keep')],
      [true, false, true, true],
    );
  });
});

describe('Dockerfile: replayed without Docker', () => {
  let tmp = '';
  let stages: Map<string, ReplayedStage>;
  let container: Container;
  let server: ChildProcess | undefined;
  const timings: string[] = [];

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'cairn-image-'));
    await chmod(tmp, 0o755); // the image's user must reach the replayed root
    const t0 = Date.now();
    stages = await replay(df, tmp, timings);
    timings.push(`both stages replayed in ${Date.now() - t0} ms`);
    const ports = new Map<number, number>();
    for (const p of finalStage.exposed) ports.set(Number(p), await freePort());
    container = new Container(stages.get(String(df.stages.length - 1))!, ports);
  });

  after(async () => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      process.kill(server.pid, 'SIGKILL');
    }
    if (tmp !== '') await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
  });

  it('every COPY source from the context exists and is not excluded by .dockerignore', (t) => {
    for (const line of timings) t.diagnostic(line);
    for (const stage of df.stages) {
      for (const op of stage.ops) {
        if (op.kind !== 'copy' || op.copy.from !== undefined) continue;
        for (const s of op.copy.sources) {
          const rel = contextPath(s);
          assert.ok(existsSync(join(REPO_ROOT, rel)), `${s} missing`);
          assert.ok(!ignore.ignores(rel), `${s} excluded`);
          assert.ok(contextFiles(rel).length > 0, `${s}: nothing of it reaches the build context`);
        }
      }
    }
    // The build stage compiled from these alone (before()): every entry point's script is there.
    const build = stages.get('build')!;
    for (const script of Object.values(pkg.bin))
      assert.ok(existsSync(join(build.root, '/src', script)), script);
  });

  it('the run stage holds the compiled code and production dependencies only', () => {
    const app = join(container.rs.root, IMAGE_APP_DIR);
    assert.deepEqual(readdirSync(app).sort(), ['dist', 'node_modules', 'package-lock.json', 'package.json']);
    assert.deepEqual(readdirSync(join(app, 'dist')).sort(), ['operator', 'server']);
    const sources = [...listing(join(app, 'dist'), '').keys()].filter((p) => p.endsWith('.ts'));
    assert.deepEqual(sources, [], 'no TypeScript sources in the image');
    // The pruned tree is exactly the lock file's production packages (what `npm ci --omit=dev` installs).
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean; link?: boolean }>;
    };
    const installed = new Set<string>();
    const walk = (dir: string, prefix: string): void => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir)) {
        if (e.startsWith('.')) continue;
        const names = e.startsWith('@') ? readdirSync(join(dir, e)).map((n) => `${e}/${n}`) : [e];
        for (const n of names) {
          const key = `${prefix}node_modules/${n}`;
          installed.add(key);
          walk(join(dir, n, 'node_modules'), `${key}/`);
        }
      }
    };
    walk(join(app, 'node_modules'), '');
    for (const key of installed) {
      const entry = lock.packages[key];
      assert.ok(entry !== undefined, `${key} is not in package-lock.json`);
      assert.ok(entry.dev !== true, `${key} is a dev dependency`);
    }
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (key === '' || entry.dev || entry.optional || entry.devOptional || entry.link) continue;
      assert.ok(installed.has(key), `${key} (production) is missing`);
    }
    // Tools only (some dev dependencies, @types/node say, are also needed by production packages).
    const tools = Object.keys(pkg.devDependencies).filter(
      (d) => lock.packages[`node_modules/${d}`]?.dev === true,
    );
    assert.ok(tools.includes('typescript'), 'typescript is a dev-only package of the lock file');
    for (const dev of tools) assert.ok(!installed.has(`node_modules/${dev}`), `dev tool ${dev} in the image`);
  });

  it('cairn, cairnctl, cairn-bench and cairn-operator start from the production-only install', async () => {
    const v = pkg.version;
    const cases: [string[], RegExp][] = [
      [['cairn', '--version'], new RegExp(`^cairn Version: ${v}$`, 'm')],
      [['cairn', '--help'], /^Usage: cairn \[flags\]/],
      [['cairnctl', 'version'], new RegExp(`^cairnctl version: ${v}$`, 'm')],
      [['cairn-bench', '--help'], /^Usage: cairn-bench /],
      [['cairn-operator', '--help'], /^cairn-operator: runs KVCluster resources/],
      // The operator's Jobs: `sh -c '… cairnctl …'`.
      [['sh', '-c', 'cairnctl version && command -v cairnctl'], new RegExp(`/usr/local/bin/cairnctl$`, 'm')],
    ];
    for (const [argv, expected] of cases) {
      const r = await container.exec(argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: exit ${r.code ?? r.signal}\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, expected, `${argv.join(' ')}:\n${r.stdout}`);
    }
  });

  it('the ENTRYPOINT serves on the image environment: cairnctl put/get, /health; nothing written outside the data dir', async (t) => {
    for (const n of container.rs.notes) t.diagnostic(n);
    if (!asRoot) t.diagnostic('not root: the processes run as this user, not as uid 65532');
    const root = container.rs.root;
    const dataMount = join(root, DATA_MOUNT);
    const untouched = listing(root, dataMount);
    const client = `http://127.0.0.1:${container.ports.get(CLIENT_PORT)}`;
    const peer = `http://127.0.0.1:${container.ports.get(PEER_PORT)}`;
    // What a user adds to `docker run` for a one-member server reachable from outside.
    const advertise = { CAIRN_ADVERTISE_CLIENT_URLS: client, CAIRN_INITIAL_ADVERTISE_PEER_URLS: peer };
    assert.ok(finalStage.entrypoint !== undefined);
    let log = '';
    const proc = container.start(finalStage.entrypoint, advertise);
    server = proc;
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => (log += d));
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) =>
      proc.once('exit', (code, signal) => r([code, signal])),
    );
    const ctl = (...args: string[]): ReturnType<typeof spawnChecked> =>
      container.exec(['cairnctl', `--endpoints=${client}`, ...args]);

    const deadline = Date.now() + SERVER_READY_TIMEOUT_MS;
    let health = await ctl('endpoint', 'health');
    while (health.code !== 0 && Date.now() < deadline && proc.exitCode === null) {
      await sleep(200);
      health = await ctl('endpoint', 'health');
    }
    assert.equal(
      health.code,
      0,
      `cairn not healthy within ${SERVER_READY_TIMEOUT_MS} ms\n${health.stderr}\n${log}`,
    );

    const put = await ctl('put', 'image-test', 'from the production-only install');
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout, 'OK\n');
    const get = await ctl('get', 'image-test');
    assert.equal(get.stdout, 'image-test\nfrom the production-only install\n', get.stderr);
    const viaShell = await container.exec([
      'sh',
      '-c',
      `cairnctl --endpoints=${client} get image-test --print-value-only`,
    ]);
    assert.equal(viaShell.stdout, 'from the production-only install\n', viaShell.stderr);
    const metrics = await fetch(`http://127.0.0.1:${container.ports.get(METRICS_PORT)}/health`);
    assert.equal(metrics.status, 200);
    await metrics.body?.cancel();

    // The data went where CAIRN_DATA_DIR says, owned by the image's user.
    const dataDir = join(root, DATA_DIR);
    assert.ok(existsSync(join(dataDir, 'member')), `no member dir in ${dataDir}`);
    if (asRoot) assert.equal(statSync(join(dataDir, 'member')).uid, IMAGE_UID);

    assert.ok(proc.pid !== undefined);
    process.kill(proc.pid, 'SIGTERM');
    const stop = await Promise.race([exited, sleep(SERVER_STOP_TIMEOUT_MS).then(() => undefined)]);
    assert.deepEqual(stop, [0, null], `cairn did not stop cleanly on SIGTERM\n${log}`);
    server = undefined;

    // Read-only root file system: nothing outside the data dir changed (the tests' /tmp is not the image's).
    assert.deepEqual(listing(root, dataMount), untouched);
  });
});
