import { fileURLToPath } from 'node:url';
import { describeOptions, MUTATIONS, type Mutation, type OptionOverrides } from './options.js';
import { runSeed } from './run.js';
import { addStats, describeStats, emptyStats } from './stats.js';

/**
 * `npm run sim` — the deterministic simulator of the Raft core (see README.md).
 *
 *   npm run sim -- --seed N            replay one seed, printing every event
 *   npm run sim -- --seeds K [--from S] [--steps N] [--members 3|5] [-v]
 *
 * A failure prints SEED=<n>, the broken invariant and the last events, and exits 1.
 */
const DEFAULT_FROM = 1;
const DEFAULT_SEEDS = 100;

interface Args {
  seed: number | undefined;
  seeds: number;
  from: number;
  over: OptionOverrides;
  verbose: boolean;
  /** Run every seed even after failures (for hunting); the exit code still reports them. */
  keepGoing: boolean;
}

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nusage: npm run sim -- [--seed N | --seeds K [--from S]] [--steps N] [--members 3|5] ` +
      `[--mutation ${MUTATIONS.join('|')}] [--keep-going] [-v]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    seed: undefined,
    seeds: DEFAULT_SEEDS,
    from: DEFAULT_FROM,
    over: {},
    verbose: false,
    keepGoing: false,
  };
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) usage(`${flag} needs a non-negative integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    switch (f) {
      case '--seed':
        a.seed = int(f, argv[++i]);
        break;
      case '--seeds':
        a.seeds = int(f, argv[++i]);
        break;
      case '--from':
        a.from = int(f, argv[++i]);
        break;
      case '--steps':
        a.over.steps = int(f, argv[++i]);
        break;
      case '--members': {
        const n = int(f, argv[++i]);
        if (n !== 3 && n !== 5) usage('--members must be 3 or 5');
        a.over.members = n;
        break;
      }
      case '--mutation':
        a.over.mutation = argv[++i] as Mutation;
        if (!MUTATIONS.includes(a.over.mutation)) usage('unknown --mutation');
        break;
      case '--keep-going':
        a.keepGoing = true;
        break;
      case '-v':
      case '--verbose':
        a.verbose = true;
        break;
      default:
        usage(`unknown argument ${f}`);
    }
  }
  return a;
}

/** The flags that change what a seed does, for the replay line. */
function replayFlags(o: OptionOverrides): string {
  let s = '';
  if (o.steps !== undefined) s += ` --steps ${o.steps}`;
  if (o.members !== undefined) s += ` --members ${o.members}`;
  if (o.mutation !== undefined) s += ` --mutation ${o.mutation}`;
  return s;
}

function main(): number {
  // `npm run sim -- --seed N | head` closes the pipe early: that is not a failure.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const args = parseArgs(process.argv.slice(2));
  const out = (s: string): void => void process.stdout.write(s + '\n');
  if (args.seed !== undefined) {
    // Replay: byte-identical output for a seed (no wall-clock time printed).
    const r = runSeed(args.seed, args.over, out);
    out(`SEED=${r.seed} ${r.ok ? 'ok' : 'FAILED'} ${describeStats(r.stats)} trace=${r.traceDigest}`);
    if (r.failure !== undefined) out(`invariant: ${r.failure.invariant}\n${r.failure.message}`);
    return r.ok ? 0 : 1;
  }
  const started = performance.now();
  const total = emptyStats();
  const failed: number[] = [];
  for (let seed = args.from; seed < args.from + args.seeds; seed++) {
    const t0 = performance.now();
    const r = runSeed(seed, args.over, args.verbose ? out : undefined);
    addStats(total, r.stats);
    const ms = (performance.now() - t0).toFixed(0);
    out(`SEED=${seed} ${r.ok ? 'ok' : 'FAILED'} ${describeStats(r.stats)} ${ms}ms`);
    if (r.failure !== undefined) {
      out(`SEED=${seed} options: ${describeOptions(r.options)}`);
      out(`SEED=${seed} invariant broken: ${r.failure.invariant}\n${r.failure.message}`);
      out(`last events:\n${r.failure.tail.join('\n')}`);
      out(`replay: npm run sim -- --seed ${seed}${replayFlags(args.over)}`);
      failed.push(seed);
      if (!args.keepGoing) return 1;
    }
  }
  if (failed.length > 0) {
    out(`sim: ${failed.length} of ${args.seeds} seeds FAILED: ${failed.join(' ')}`);
    return 1;
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  out(
    `sim: ${args.seeds} seeds ok (${args.from}..${args.from + args.seeds - 1}) ` +
      `proposals committed=${total.proposalsCommitted} acked=${total.proposalsAcked} ` +
      `reads checked=${total.readsChecked} elections=${total.elections} crashes=${total.crashes} ` +
      `partitions=${total.partitions} snapshots sent=${total.snapshotsSent} ` +
      `conf changes=${total.confChanges} steps=${total.steps} ` +
      `slowest convergence=${total.convergeElectionTimeouts.toFixed(1)} election timeouts time=${secs}s`,
  );
  return 0;
}

// `node --test dist/test/` loads every module under dist/test as a test file: only run as the program.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.env['NODE_TEST_CONTEXT'] === undefined) {
  process.exitCode = main();
}
