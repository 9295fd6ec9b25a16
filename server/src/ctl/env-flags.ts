// ETCDCTL_* environment variables, applied like etcd's pkg/flags.SetPflagsFromEnv: every flag `foo-bar`
// not given on the command line takes ETCDCTL_FOO_BAR when that is non-empty. Then the environment is
// checked in its own order: a variable shadowed by a command-line flag is fatal, an unknown ETCDCTL_*
// variable is a warning. Both are logged in capnslog's format:
//   2024-05-01 12:00:00.000000 W | pkg/flags: unrecognized environment variable ETCDCTL_FOO=1
// As in pflag, a malformed value is ignored but still resets the flag to its type's zero value
// (ETCDCTL_COMMAND_TIMEOUT=abc means a zero timeout).
import { bytesOf } from './byte-string.js';
import { CtlExit, ExitCode } from './exit.js';
import { goQuote } from './go-quote.js';
import type { Flag } from './flag-set.js';
import type { CtlIO } from './io.js';

const envPrefix = 'ETCDCTL';

/** pkg/flags.FlagToEnv: "dial-timeout" → "ETCDCTL_DIAL_TIMEOUT". */
export function flagToEnv(name: string): string {
  return `${envPrefix}_${name.replace(/-/g, '_').toUpperCase()}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** capnslog's pretty formatter: local time with microseconds, a level letter, the package. */
export function capnslogLine(now: Date, micros: number, level: 'W' | 'C', text: string): string {
  const ts =
    `${now.getFullYear()}-${pad(now.getMonth() + 1, 2)}-${pad(now.getDate(), 2)} ` +
    `${pad(now.getHours(), 2)}:${pad(now.getMinutes(), 2)}:${pad(now.getSeconds(), 2)}.${pad(micros, 6)}`;
  return `${ts} ${level} | pkg/flags: ${text}\n`;
}

/** Zero values that pflag leaves behind when Value.Set fails. */
function resetToZero(flag: Flag): void {
  switch (flag.def.kind) {
    case 'bool':
      flag.value = false;
      return;
    case 'int64':
    case 'duration':
      flag.value = 0n;
      return;
    default:
      return;
  }
}

/**
 * SetPflagsFromEnv over `flags` (the inherited flag set of the running command, in pflag's sorted order).
 * Throws CtlExit (exit 1, message already logged) for a variable shadowed by a command-line flag.
 */
export function applyEnvironment(flags: readonly Flag[], io: CtlIO): void {
  const alreadySet = new Set<string>();
  const used = new Set<string>();
  for (const flag of flags) {
    const key = flagToEnv(flag.name);
    if (flag.changed) {
      alreadySet.add(key);
      continue;
    }
    const val = io.env.get(key);
    if (val === undefined || val === '') continue;
    used.add(key);
    try {
      flag.setValue(bytesOf(val));
      flag.changed = true;
    } catch {
      resetToZero(flag); // etcdctl ignores SetPflagsFromEnv's error
    }
  }
  for (const [k, v] of io.env) {
    if (used.has(k)) continue;
    const { date, micros } = io.wallClock();
    if (alreadySet.has(k)) {
      io.stderr.write(
        capnslogLine(
          date,
          micros,
          'C',
          `conflicting environment variable ${goQuote(bytesOf(k))} is shadowed by corresponding command-line flag ` +
            '(either unset environment variable or disable flag)',
        ),
      );
      throw new CtlExit(ExitCode.error, undefined);
    }
    if (k.startsWith(`${envPrefix}_`)) {
      io.stderr.write(
        capnslogLine(date, micros, 'W', bytesOf(`unrecognized environment variable ${k}=${v}`)),
      );
    }
  }
}
