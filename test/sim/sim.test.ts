// The simulator's CI budget (tier 2 of TESTING.md): a fixed list of seeds run through the safety phase
// (faults, churn) and the liveness phase (heal, converge), each seed drawing its own options; the
// determinism of a seed's run; and the mutation self-check, which breaks the system on the simulator's
// side and requires the checkers to notice within a few seeds (a simulator that cannot fail proves
// nothing).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Mutation, OptionOverrides } from './options.js';
import { runSeed } from './run.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Seeds that fail because of a known, reported bug in the core (see /tmp/sim-findings.md and the
 * README): kept out of the budget so CI stays green while they are fixed. Empty when all is well.
 */
const KNOWN_FAILING = new Set<number>([]);

/**
 * The budget, measured on the 2-core machine with nothing else running: about 12 ms per 1500-step seed
 * with 3 voters, 15 ms with 5, 70 ms per 10 000-step seed; about 130 s for the whole directory.
 */
const BUDGET: { name: string; from: number; count: number; over: OptionOverrides }[] = [
  { name: '3 voters (+0-2 learners), 1500 steps', from: 1, count: 4000, over: { members: 3, steps: 1500 } },
  {
    name: '5 voters (+0-2 learners), 1500 steps',
    from: 100_001,
    count: 3500,
    over: { members: 5, steps: 1500 },
  },
  { name: 'mixed sizes, 10000 steps', from: 200_001, count: 250, over: { steps: 10_000 } },
];

function runRange(from: number, count: number, over: OptionOverrides): { seeds: number; committed: number } {
  let committed = 0;
  let seeds = 0;
  for (let seed = from; seed < from + count; seed++) {
    if (KNOWN_FAILING.has(seed)) continue;
    const r = runSeed(seed, over);
    if (!r.ok) {
      const f = r.failure!;
      assert.fail(
        `SEED=${seed} broke ${f.invariant}: ${f.message}\nlast events:\n${f.tail.slice(-25).join('\n')}\n` +
          `replay: npm run sim -- --seed ${seed}` +
          (over.members === undefined ? '' : ` --members ${over.members}`) +
          (over.steps === undefined ? '' : ` --steps ${over.steps}`),
      );
    }
    committed += r.stats.proposalsCommitted;
    seeds++;
  }
  return { seeds, committed };
}

describe('raft simulator', () => {
  for (const b of BUDGET) {
    it(`seeds ${b.from}..${b.from + b.count - 1}: ${b.name}`, (t) => {
      const { seeds, committed } = runRange(b.from, b.count, b.over);
      t.diagnostic(`${seeds} seeds passed, ${committed} proposals committed`);
      assert.ok(seeds >= b.count - KNOWN_FAILING.size);
      // The workload must actually get through: a simulator that commits nothing checks nothing.
      assert.ok(committed > seeds * 10, `only ${committed} proposals committed over ${seeds} seeds`);
    });
  }

  it('is deterministic: a seed replays to the same trace, and `--seed N` prints the same bytes', () => {
    for (const seed of [3, 77, 4242]) {
      const a = runSeed(seed, {});
      const b = runSeed(seed, {});
      assert.equal(a.traceDigest, b.traceDigest, `seed ${seed}`);
      assert.deepEqual(a.stats, b.stats);
    }
    assert.notEqual(runSeed(3, {}).traceDigest, runSeed(4, {}).traceDigest);
    const main = path.join(here, 'main.js');
    // main.js stays quiet when loaded by the test runner (NODE_TEST_CONTEXT): run it as a program.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
    const run = (): string =>
      execFileSync(process.execPath, [main, '--seed', '77', '--steps', '800'], { encoding: 'utf8', env });
    const first = run();
    assert.ok(first.split('\n').length > 500, 'the replay prints one line per event');
    assert.match(first, /SEED=77 ok /);
    assert.equal(run(), first);
  });

  it('CLI: per-seed lines and a summary; a failure prints SEED=, the invariant, the last events, and exits 1', () => {
    const main = path.join(here, 'main.js');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
    const ok = spawnSync(process.execPath, [main, '--seeds', '3', '--from', '10', '--steps', '500'], {
      encoding: 'utf8',
      env,
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /^SEED=10 ok .*\nSEED=11 ok .*\nSEED=12 ok .*\nsim: 3 seeds ok \(10\.\.12\) proposals committed=\d+ /,
    );
    assert.match(
      ok.stdout,
      /reads checked=\d+ elections=\d+ crashes=\d+ partitions=\d+ snapshots sent=\d+ .* time=/,
    );
    const bad = spawnSync(process.execPath, [main, '--seeds', '20', '--mutation', 'misdeliver-votes'], {
      encoding: 'utf8',
      env,
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /SEED=\d+ invariant broken: election-safety\n.*two leaders in term/);
    assert.match(
      bad.stdout,
      /last events:\n(.*\n){20,}replay: npm run sim -- --seed \d+ --mutation misdeliver-votes\n$/,
    );
    const usage = spawnSync(process.execPath, [main, '--members', '4'], { encoding: 'utf8', env });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--members must be 3 or 5/);
  });

  it('uses no wall clock and no unseeded randomness in the core or the simulated run', () => {
    const dirs = [here, path.resolve(here, '../../server/src/raft')];
    let scanned = 0;
    for (const dir of dirs) {
      for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!f.endsWith('.js') || f.endsWith('.test.js') || f === 'main.js') continue;
        const src = readFileSync(path.join(dir, f), 'utf8');
        assert.doesNotMatch(src, /Math\.random|Date\.now|new Date\(|performance\.now/, `${dir}/${f}`);
        scanned++;
      }
    }
    assert.ok(scanned >= 30, `only ${scanned} files scanned`);
  });

  // The mutation self-check: each mutation breaks a property the checkers (or, for a lost log, the
  // core's own assertions) must catch within a few seeds.
  const mutations: { mutation: Mutation; caughtBy: RegExp }[] = [
    { mutation: 'misdeliver-votes', caughtBy: /^election-safety$/ },
    { mutation: 'disk-corrupts-entry', caughtBy: /^committed-entry-changed$/ },
    { mutation: 'disk-forgets-on-restart', caughtBy: /./ },
    { mutation: 'network-never-heals', caughtBy: /^liveness$/ },
  ];
  for (const { mutation, caughtBy } of mutations) {
    it(`catches the ${mutation} mutation within 20 seeds`, () => {
      const caught: string[] = [];
      for (let seed = 1; seed <= 20 && caught.length < 2; seed++) {
        const r = runSeed(seed, { mutation });
        if (!r.ok) caught.push(r.failure!.invariant);
      }
      assert.equal(caught.length, 2, `${mutation} went unnoticed`);
      for (const inv of caught) assert.match(inv, caughtBy);
    });
  }
});
