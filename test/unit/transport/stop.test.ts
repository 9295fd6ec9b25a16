import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('transport: stop', () => {
  it(
    'stop() is bounded and leaves no open handles: the process exits by itself',
    { timeout: 30_000 },
    async () => {
      const child = spawn(
        process.execPath,
        [join(dirname(fileURLToPath(import.meta.url)), 'stop-child.js')],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      clearTimeout(timer);
      assert.equal(code, 0, out);
      const m = /stopped in (\d+) ms/.exec(out);
      assert.ok(m !== null, out);
      assert.ok(Number(m[1]) < 2_000 + 1_000, `stop took ${m[1]} ms (stopTimeoutMs is 2000)`);
    },
  );
});
