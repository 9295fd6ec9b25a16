// A CtlIO for unit tests: output collected in memory, fixed stdin, an empty environment, fixed clocks.
// (No tests here; node --test loads this file too, so it has no side effects.)
import { BytesStdin, MemorySink, type CtlIO } from '../../../server/src/ctl/io.js';

export interface MemoryIO extends CtlIO {
  stdout: MemorySink;
  stderr: MemorySink;
}

export function memoryIO(stdin = '', env: [string, string][] = []): MemoryIO {
  return {
    stdout: new MemorySink(),
    stderr: new MemorySink(),
    stdin: new BytesStdin(stdin),
    env: new Map(env),
    wallClock: () => ({ date: new Date(Date.UTC(2024, 4, 1, 12, 0, 0, 123)), micros: 123456 }),
    monotonicNs: () => 0n,
    random: () => 0.5,
  };
}
