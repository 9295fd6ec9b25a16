#!/usr/bin/env node
// cairn-bench: a load generator with etcd's tools/benchmark commands and flags (see server/src/bench/).
import { BenchUsageError, parseBenchArgs, USAGE } from '../bench/options.js';
import { computeStats, formatReport, jsonSummary } from '../bench/report.js';
import { EndpointUnreachableError, runBench } from '../bench/runner.js';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const opts = parseBenchArgs(argv);
    const stats = computeStats(await runBench(opts));
    if (opts.json) process.stdout.write(JSON.stringify(jsonSummary(stats)) + '\n');
    else process.stdout.write(formatReport(stats) + '\n');
    return stats.errors.size > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof BenchUsageError) {
      process.stderr.write(`Error: ${err.message}\n${USAGE}`);
      return 1;
    }
    if (err instanceof EndpointUnreachableError) {
      process.stderr.write(`Error: endpoint unreachable: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

const code = await main(process.argv.slice(2));
// gRPC channels may still hold the event loop for a moment; the run is over.
process.exit(code);
