// The one log line etcd's Go client prints by default: its retry interceptor logs every failed unary
// attempt at WARN, as zap JSON on stderr, before etcdctl prints "Error: ...". Scripts and the test
// framework (test/framework/output.ts splitStderr) see it, so cairnctl prints the same line:
// {"level":"warn","ts":"2024-05-01T12:00:00.000Z","caller":"clientv3/retry_interceptor.go:62",
//  "msg":"retrying of unary invoker failed","target":"endpoint://client-<uuid>/127.0.0.1:2379",
//  "attempt":0,"error":"rpc error: code = OutOfRange desc = etcdserver: mvcc: ..."}
import { decodeRune } from './byte-string.js';

const HEX = '0123456789abcdef';

/** zap's JSON string escaping (no HTML escaping; invalid UTF-8 → \ufffd). Byte strings in and out. */
function zapString(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length;) {
    const b = bytes.charCodeAt(i);
    if (b < 0x80) {
      const c = bytes[i]!;
      if (c === '\\' || c === '"') out += '\\' + c;
      else if (c === '\n') out += '\\n';
      else if (c === '\r') out += '\\r';
      else if (c === '\t') out += '\\t';
      else if (b < 0x20) out += '\\u00' + HEX[b >> 4]! + HEX[b & 0xf]!;
      else out += c;
      i++;
      continue;
    }
    const d = decodeRune(bytes, i);
    out += d.valid ? bytes.slice(i, i + d.size) : '\\ufffd';
    i += d.size;
  }
  return out + '"';
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** zapcore.ISO8601TimeEncoder: local time, milliseconds, zone as Z or ±hhmm. */
export function iso8601Local(d: Date): string {
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0
      ? 'Z'
      : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${zone}`
  );
}

/** The retry interceptor's WARN line for one failed attempt. `target` and `error` are byte strings. */
export function retryWarnLine(now: Date, target: string, attempt: number, error: string): string {
  return (
    `{"level":"warn","ts":"${iso8601Local(now)}","caller":"clientv3/retry_interceptor.go:62",` +
    `"msg":"retrying of unary invoker failed","target":${zapString(target)},"attempt":${attempt},` +
    `"error":${zapString(error)}}\n`
  );
}
