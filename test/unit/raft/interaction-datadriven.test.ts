import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCommandLine, runScript, type TestData } from './interaction/datadriven.js';

describe('interaction datadriven reader', () => {
  it('splits a command line into keys and values, keeping (a, b) lists together', () => {
    const { cmd, cmdArgs } = parseCommandLine(
      'x',
      'add-nodes 3 voters=(1, 2,3) learners=(4 5) index=10 solo',
    );
    assert.equal(cmd, 'add-nodes');
    assert.deepEqual(cmdArgs, [
      { key: '3', vals: [] },
      { key: 'voters', vals: ['1', '2', '3'] },
      { key: 'learners', vals: ['4', '5'] },
      { key: 'index', vals: ['10'] },
      { key: 'solo', vals: [] },
    ]);
    assert.throws(() => parseCommandLine('x', 'cmd a=(1,2'), /unbalanced/);
  });

  it('reads blocks, input lines and doubled separators; reports the first mismatch; rewrites in place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-dd-'));
    try {
      const path = join(dir, 'script.txt');
      const script = [
        '# a comment',
        '',
        'echo a',
        'in1',
        'in2',
        '----',
        'stale',
        '',
        '# blank lines inside the output need doubled separators',
        'blank',
        '----',
        '----',
        'x',
        '',
        'y',
        '----',
        '----',
        '',
        'echo last',
        '----',
        'last',
        '',
      ].join('\n');
      writeFileSync(path, script);
      const seen: TestData[] = [];
      const handle = (d: TestData): string => {
        seen.push(d);
        if (d.cmd === 'blank') return 'x\n\ny\n';
        return (
          d.cmdArgs.map((a) => a.key).join(' ') + (d.input === '' ? '' : '|' + d.input.replace('\n', ','))
        );
      };

      const mismatch = runScript(path, handle, false);
      assert.deepEqual(mismatch, {
        pos: `${path}:3`,
        command: 'echo a',
        expected: 'stale\n',
        actual: 'a|in1,in2\n',
      });
      assert.equal(seen.length, 1, 'blocks after a mismatch are not run');

      seen.length = 0;
      assert.equal(runScript(path, handle, true), undefined);
      assert.deepEqual(
        seen.map((d) => d.cmd),
        ['echo', 'blank', 'echo'],
      );
      assert.equal(readFileSync(path, 'utf8'), script.replace('----\nstale\n', '----\na|in1,in2\n'));
      assert.equal(runScript(path, handle, false), undefined, 'a rewritten script passes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
