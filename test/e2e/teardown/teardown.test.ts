// Runs after `npm run test:e2e` has torn the environment down, in the root netns: nothing the run started
// may be left. The recorded processes come from state.last.json, which `down` writes from state.json (plus
// the agent's own list of what it spawned).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { it } from 'node:test';
import { loadConfig } from '../env/config.js';
import { describeLeftovers, findLeftovers } from '../env/leftovers.js';
import { readState } from '../env/state.js';

it('the e2e environment left nothing behind', async () => {
  const cfg = loadConfig();
  assert.ok(!existsSync(cfg.paths.state), `${cfg.paths.state} still exists: down did not finish`);
  const last = readState(cfg.paths.lastState);
  assert.ok(last, `${cfg.paths.lastState} is missing: down never recorded what it stopped`);
  assert.ok(last.stoppedAt, 'state.last.json says when down finished');
  const left = await findLeftovers({
    prefix: cfg.prefix,
    runDir: cfg.runDir,
    processes: [...last.processes, ...(last.agentChildren ?? [])],
  });
  assert.deepEqual(
    left,
    { processes: [], unrecorded: [], netns: [], mounts: [] },
    `left behind:\n${describeLeftovers(left)}`,
  );
});
