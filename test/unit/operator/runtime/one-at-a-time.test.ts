import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OneAtATime } from '../../../../operator/src/runtime/one-at-a-time.js';

describe('OneAtATime', () => {
  it('never lets two sections overlap, keeps their order, and a failure does not stop the next', async () => {
    const serial = new OneAtATime();
    const log: string[] = [];
    const section =
      (name: string, ms: number, fail = false) =>
      async (): Promise<string> => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const a = serial.run(section('a', 20));
    const b = serial.run(section('b', 1, true));
    const c = serial.run(section('c', 1));
    assert.equal(await a, 'a');
    await assert.rejects(b, /b/);
    assert.equal(await c, 'c');
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
