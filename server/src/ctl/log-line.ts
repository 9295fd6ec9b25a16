// Zap-style JSON log lines on stderr for Cairn's own commands (as etcdctl's snapshot commands write
// theirs): stdout stays for the result, stderr says what happened on the way.
import { bytesOf } from './byte-string.js';
import { jsonString } from './go-json.js';
import type { CtlIO } from './io.js';

/** One line `{"level":…,"ts":…,"caller":…,"msg":…,<fields>}` on stderr. */
export function logLine(
  io: CtlIO,
  caller: string,
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields: Record<string, string | number | boolean>,
): void {
  const ts = io.wallClock().date.getTime() / 1000;
  let line = `{"level":"${level}","ts":${ts},"caller":"${caller}","msg":${jsonString(msg)}`;
  for (const [k, v] of Object.entries(fields)) {
    line += `,${jsonString(k)}:${typeof v === 'string' ? jsonString(bytesOf(v)) : String(v)}`;
  }
  io.stderr.write(`${line}}\n`);
}
