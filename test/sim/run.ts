import { Prng } from '../../server/src/raft/rng.js';
import { InvariantViolation } from './checkers/violation.js';
import { convergenceGap } from './checkers/convergence.js';
import { swarmOptions, type OptionOverrides, type SimOptions } from './options.js';
import { Simulator } from './simulator.js';
import type { Stats } from './stats.js';

export interface SeedResult {
  seed: number;
  options: SimOptions;
  ok: boolean;
  stats: Stats;
  /** Hash of the whole event trace: equal for two runs of one seed. */
  traceDigest: string;
  /** On failure: which invariant, the message, and the last events. */
  failure?: { invariant: string; message: string; tail: string[] };
}

/** Events checked for convergence in the liveness phase, between two checks. */
const CONVERGENCE_CHECK_INTERVAL_STEPS = 16;
/** Events in the liveness phase, at most (its real bound is `livenessTimeMax` of simulated time). */
const LIVENESS_STEPS_MAX = 5_000_000;

/**
 * Runs one seed: the safety phase (`steps` events under faults and churn), then the liveness phase
 * (network healed, everyone restarted, no churn; proposals submitted now must be applied everywhere and
 * the members must converge within `livenessTimeMax`). Any exception is a failure of the seed: a checker's
 * InvariantViolation, or an assertion/crash inside the core or the simulator.
 */
export function runSeed(seed: number, over: OptionOverrides, sink?: (line: string) => void): SeedResult {
  const rng = new Prng(seed);
  const o = swarmOptions(seed, rng, over);
  const sim = new Simulator(o, rng, sink);
  try {
    for (let i = 0; i < o.steps; i++) if (!sim.step()) break;
    sim.phase = 'liveness';
    sim.log('--- liveness phase ---');
    sim.nemesis.healEverything();
    for (let i = 0; i < o.livenessProposals; i++) sim.workload.propose(true);
    const healedAt = sim.now;
    const deadline = healedAt + o.livenessTimeMax;
    let gap: string | undefined = 'not checked';
    for (let i = 0; sim.now <= deadline && i < LIVENESS_STEPS_MAX; i++) {
      if (!sim.step()) break;
      if (i % CONVERGENCE_CHECK_INTERVAL_STEPS !== 0) continue;
      gap = sim.workload.unappliedLiveness(sim.upMembers()) ?? convergenceGap([...sim.members.values()]);
      if (gap === undefined) break;
    }
    if (gap !== undefined) {
      throw new InvariantViolation(
        'liveness',
        `not converged ${o.livenessTimeMax} time units after healing: ${gap}`,
      );
    }
    sim.fullCheck();
    sim.stats.convergeElectionTimeouts = (sim.now - healedAt) / (o.electionTicks * o.tickIntervalTime);
    sim.log(`converged at ${sim.now}`);
  } catch (e) {
    const invariant =
      e instanceof InvariantViolation ? e.invariant : e instanceof Error ? e.name : 'exception';
    const message =
      e instanceof Error ? (e instanceof InvariantViolation ? e.message : (e.stack ?? e.message)) : String(e);
    sim.stats.elections = sim.electionSafety.elections;
    sim.stats.simTime = sim.now;
    return {
      seed,
      options: o,
      ok: false,
      stats: sim.stats,
      traceDigest: sim.trace.digest(),
      failure: { invariant, message, tail: sim.trace.tail() },
    };
  }
  sim.stats.elections = sim.electionSafety.elections;
  sim.stats.simTime = sim.now;
  return { seed, options: o, ok: true, stats: sim.stats, traceDigest: sim.trace.digest() };
}
