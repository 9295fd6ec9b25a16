import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript } from './interaction/datadriven.js';
import { InteractionEnv } from './interaction/env.js';
import { handle } from './interaction/handle.js';

/*
 * Golden transcripts of the Raft core (etcd-io/raft's interaction tests): every testdata/*.txt is a
 * script of commands driving a group of RawNodes by hand, with the exact output expected (Readys,
 * messages, the core's log lines). testdata/README.md has the command language.
 *
 * CAIRN_REWRITE=1 rewrites the expected outputs in place instead of failing. Only keep a rewrite whose
 * every change you understand: the transcripts are the specification.
 */

// The tests run from dist/test/unit/raft/; the scripts stay in the source tree.
const TESTDATA = fileURLToPath(new URL('../../../../test/unit/raft/testdata/', import.meta.url));
const REWRITE = process.env['CAIRN_REWRITE'] === '1';

const scripts = readdirSync(TESTDATA)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('raft interaction transcripts', () => {
  it('finds the scripts', () => {
    assert.ok(scripts.length >= 10, `only ${scripts.length} scripts in ${TESTDATA}`);
  });

  for (const file of scripts) {
    it(file, () => {
      const env = new InteractionEnv();
      const mismatch = runScript(TESTDATA + file, (d) => handle(env, d), REWRITE);
      if (mismatch !== undefined) {
        assert.equal(
          mismatch.actual,
          mismatch.expected,
          `${mismatch.pos}: output of \`${mismatch.command}\` differs (CAIRN_REWRITE=1 rewrites)`,
        );
      }
    });
  }
});
