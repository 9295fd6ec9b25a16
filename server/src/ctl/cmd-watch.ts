// `watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]`
// (etcdctl/ctlv3/command/watch_command.go, 3.4): prints every response of one watch until the server
// cancels it (then `Error: watch is canceled by the server`, exit 5); `-i` reads `watch ...` and
// `progress` lines from stdin instead, each `watch` adding a watch on the same stream, until stdin ends
// (exit 3). A command after `--` runs once per event with ETCD_WATCH_* in its environment. The key may
// come from ETCDCTL_WATCH_KEY / ETCDCTL_WATCH_RANGE_END. parseWatchArgs keeps etcdctl's checks on the raw
// command line, in etcdctl's order, since they decide which error a bad line gets.
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode, GoPanic } from './exit.js';
import { FlagError, FlagSet, makeFlags, type FlagDef } from './flag-set.js';
import { clientConfigFromCmd, mustClient } from './global-flags.js';
import { bytesFromBuffer, bytesOf } from './byte-string.js';
import type { EtcdClient } from './client.js';
import { goQuote } from './go-quote.js';
import { withPrefix } from './key-range.js';
import { eventTypeName, type Printer } from './printer.js';
import { argify } from './txn-syntax.js';
import { isProgressNotify, WatchMux, type Watcher, type WatchSpec } from './watch-stream.js';

const watchFlags: readonly FlagDef[] = [
  { name: 'interactive', shorthand: 'i', kind: 'bool', default: false, usage: 'Interactive mode' },
  { name: 'prefix', kind: 'bool', default: false, usage: 'Watch on a prefix if prefix is set' },
  { name: 'rev', kind: 'int64', default: 0n, usage: 'Revision to start watching' },
  {
    name: 'prev-kv',
    kind: 'bool',
    default: false,
    usage: 'get the previous key-value pair before the event happens',
  },
];

const errBadArgsNum = 'bad number of arguments';
const errBadArgsNumConflictEnv = 'bad number of arguments (found conflicting environment key)';
const errBadArgsNumSeparator = 'bad number of arguments (found separator --, but no commands)';
const errBadArgsInteractiveWatch = "args[0] must be 'watch' for interactive calls";

/** etcdctl's watchPrefix, watchRev and watchPrevKey (package variables, reset by some errors). */
export interface WatchOptions {
  prefix: boolean;
  rev: bigint;
  prevKv: boolean;
}

/** A parseWatchArgs or getWatchChan error (etcdctl: ExitWithError(ExitBadArgs, err) or a message). */
export class WatchArgsError extends Error {}

/** The watch command's own flags, as NewWatchCommand().Flags() (no help flag, no global flags). */
function watchFlagSet(): FlagSet {
  return new FlagSet(makeFlags(watchFlags));
}

function parseFlags(fs: FlagSet, args: readonly string[]): string[] {
  try {
    return fs.parse(args);
  } catch (err) {
    if (err instanceof FlagError) throw new WatchArgsError(err.message);
    throw err;
  }
}

/**
 * parseWatchArgs: `osArgs` is the raw command line (with the program name), `commandArgs` the positional
 * arguments after flag parsing (without `--`), or in interactive mode the words of the line. Returns the
 * key [and range_end] words and the exec command. In interactive mode it sets `opts` from the line's flags.
 */
export function parseWatchArgs(
  osArgs: readonly string[],
  commandArgs: readonly string[],
  envKey: string,
  envRange: string,
  interactive: boolean,
  opts: WatchOptions,
): { watchArgs: string[]; execArgs: string[] } {
  let rawArgs = [...osArgs];
  let watchArgs = [...commandArgs];
  const reset = (): void => {
    opts.prefix = false;
    opts.rev = 0n;
    opts.prevKv = false;
  };
  const w = rawArgs.indexOf('watch');
  if (w >= 0) rawArgs = rawArgs.slice(w + 1);

  if (interactive) {
    if (watchArgs[0] !== 'watch') {
      reset();
      throw new WatchArgsError(errBadArgsInteractiveWatch);
    }
    watchArgs = watchArgs.slice(1);
  }

  if (!interactive) {
    const execIdx = rawArgs.indexOf('--');
    const execExist = execIdx >= 0;
    if (execExist && execIdx === rawArgs.length - 1) throw new WatchArgsError(errBadArgsNumSeparator);
    if (!execExist && rawArgs.length < 1 && envKey === '') throw new WatchArgsError(errBadArgsNum);
    if (execExist && envKey !== '') {
      let ridx = rawArgs.length - 1;
      for (let widx = watchArgs.length - 1; widx >= 0; widx--) {
        if (ridx < 0) throw new GoPanic(`runtime error: index out of range [${ridx}]`);
        if (watchArgs[widx] === rawArgs[ridx]) {
          ridx--;
          continue;
        }
        if (ridx === execIdx) throw new WatchArgsError(errBadArgsNumConflictEnv);
      }
    }
    if (!execExist && watchArgs.length > 0 && envKey !== '') {
      throw new WatchArgsError(errBadArgsNumConflictEnv);
    }
  } else {
    const execIdx = watchArgs.indexOf('--');
    const execExist = execIdx >= 0;
    if (execExist && execIdx === watchArgs.length - 1) {
      reset();
      throw new WatchArgsError(errBadArgsNumSeparator);
    }
    let pArgs: string[];
    try {
      pArgs = parseFlags(watchFlagSet(), watchArgs);
    } catch (err) {
      reset();
      throw err;
    }
    if (!execExist && envKey === '' && pArgs.length < 1) {
      reset();
      throw new WatchArgsError(errBadArgsNum);
    }
    if (!execExist && pArgs.length > 0 && envKey !== '') {
      reset();
      throw new WatchArgsError(errBadArgsNumConflictEnv);
    }
  }

  const argsWithSep = interactive ? watchArgs : rawArgs;
  const idx = argsWithSep.indexOf('--');
  const foundSep = idx >= 0;
  const execArgs = foundSep ? argsWithSep.slice(idx + 1) : [];

  if (interactive) {
    const fs = watchFlagSet();
    watchArgs = parseFlags(fs, argsWithSep);
    opts.prefix = fs.bool('prefix');
    opts.rev = fs.int64('rev');
    opts.prevKv = fs.bool('prev-kv');
  }

  if (envKey !== '') {
    watchArgs = [envKey, ...(envRange !== '' ? [envRange] : []), ...watchArgs];
  }
  if (!foundSep) return { watchArgs, execArgs: [] };

  let endIdx = watchArgs.length - 1;
  for (; endIdx >= 0; endIdx--) if (watchArgs[endIdx] === argsWithSep[idx + 1]) break;
  if (endIdx < 0) throw new GoPanic('runtime error: slice bounds out of range [:-1]');
  return { watchArgs: watchArgs.slice(0, endIdx), execArgs };
}

/** getWatchChan's checks and options: the watch to create. */
export function watchSpecOf(args: readonly string[], opts: WatchOptions): WatchSpec {
  if (args.length < 1) throw new WatchArgsError(errBadArgsNum);
  let key = args[0]!;
  let rangeEnd = '';
  if (args.length === 2) {
    if (opts.prefix) throw new WatchArgsError('`range_end` and `--prefix` are mutually exclusive');
    rangeEnd = args[1]!;
  }
  if (opts.prefix) ({ key, end: rangeEnd } = withPrefix(key));
  return { key, rangeEnd, startRevision: opts.rev, prevKv: opts.prevKv };
}

/** fmt's %q of a []string: ["a" "b"]. */
function quoteList(words: readonly string[]): string {
  return `[${words.map(goQuote).join(' ')}]`;
}

/** printWatchCh: prints the watch's responses until its channel closes; runs the exec command per event. */
async function printWatchCh(
  inv: Invocation,
  display: Printer,
  watcher: Watcher,
  execArgs: readonly string[],
): Promise<void> {
  for (;;) {
    const d = await watcher.next();
    if (d === undefined) return;
    const { resp, err } = d;
    if (resp.canceled) inv.io.stderr.write(`watch was canceled (${err ?? '<nil>'})\n`);
    if (isProgressNotify(resp)) inv.io.stdout.write(`progress notify: ${resp.header?.revision ?? 0n}\n`);
    display.watch(resp);
    if (execArgs.length === 0) continue;
    for (const ev of resp.events) {
      const env = [
        `ETCD_WATCH_REVISION=${resp.header?.revision ?? 0n}`,
        `ETCD_WATCH_EVENT_TYPE=${goQuote(eventTypeName(ev.type))}`,
        `ETCD_WATCH_KEY=${goQuote(bytesFromBuffer(ev.kv?.key ?? Buffer.alloc(0)))}`,
        `ETCD_WATCH_VALUE=${goQuote(bytesFromBuffer(ev.kv?.value ?? Buffer.alloc(0)))}`,
      ];
      const failure =
        inv.io.runCommand === undefined
          ? 'exec: no process can be started here'
          : await inv.io.runCommand(execArgs, env);
      if (failure !== undefined) {
        inv.io.stderr.write(`command ${quoteList(execArgs)} error (${failure})\n`);
        throw new CtlExit(ExitCode.error, undefined);
      }
    }
  }
}

/**
 * The invocation as the client setup sees it: etcdctl does not warn about ETCDCTL_WATCH_KEY and
 * ETCDCTL_WATCH_RANGE_END as unrecognized environment variables when it runs watch.
 */
function withoutWatchEnv(inv: Invocation): Invocation {
  const env = new Map(
    [...inv.io.env].filter(([k]) => k !== 'ETCDCTL_WATCH_KEY' && k !== 'ETCDCTL_WATCH_RANGE_END'),
  );
  return { ...inv, io: { ...inv.io, env } };
}

async function connect(inv: Invocation): Promise<{ client: EtcdClient; display: Printer }> {
  const quiet = withoutWatchEnv(inv);
  const { cfg, display } = await clientConfigFromCmd(quiet);
  return { client: await mustClient(cfg, quiet), display };
}

async function runWatch(inv: Invocation): Promise<void> {
  const envKey = bytesOf(inv.io.env.get('ETCDCTL_WATCH_KEY') ?? '');
  const envRange = bytesOf(inv.io.env.get('ETCDCTL_WATCH_RANGE_END') ?? '');
  if (envKey === '' && envRange !== '') {
    throw new CtlExit(
      ExitCode.badArgs,
      `ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=${goQuote(envRange)}`,
    );
  }
  // Go's os.Args; its first element, the program path, never matters here.
  const osArgs = ['', ...(inv.rawArgs ?? inv.args)];
  const opts: WatchOptions = {
    prefix: inv.flags.bool('prefix'),
    rev: inv.flags.int64('rev'),
    prevKv: inv.flags.bool('prev-kv'),
  };
  if (inv.flags.bool('interactive')) {
    await watchInteractive(inv, osArgs, envKey, envRange, opts);
    return;
  }
  let parsed: { watchArgs: string[]; execArgs: string[] };
  try {
    parsed = parseWatchArgs(osArgs, inv.args, envKey, envRange, false, opts);
  } catch (err) {
    if (err instanceof WatchArgsError) throw new CtlExit(ExitCode.badArgs, err.message);
    throw err;
  }
  const { client, display } = await connect(inv);
  const mux = new WatchMux(client);
  try {
    let spec: WatchSpec;
    try {
      spec = watchSpecOf(parsed.watchArgs, opts);
    } catch (err) {
      if (err instanceof WatchArgsError) throw new CtlExit(ExitCode.badArgs, err.message);
      throw err;
    }
    await printWatchCh(inv, display, mux.watch(spec), parsed.execArgs);
  } finally {
    mux.stop();
    client.close();
  }
  throw new CtlExit(ExitCode.interrupted, 'watch is canceled by the server');
}

/** watchInteractiveFunc: one request per stdin line, until stdin ends or a watch's printer fails. */
async function watchInteractive(
  inv: Invocation,
  osArgs: readonly string[],
  envKey: string,
  envRange: string,
  opts: WatchOptions,
): Promise<void> {
  const { client, display } = await connect(inv);
  const mux = new WatchMux(client);
  let fatal: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fatal = reject));
  failed.catch(() => undefined);
  const readLoop = async (): Promise<void> => {
    for (;;) {
      const { line: raw, eof } = await inv.io.stdin.readLine();
      if (eof) throw new CtlExit(ExitCode.invalidInput, 'Error reading watch request line: EOF');
      const l = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
      const args = argify(l);
      if (args.length < 1) {
        inv.io.stderr.write(`Invalid command: ${l} (watch and progress supported)\n`);
        continue;
      }
      switch (args[0]) {
        case 'watch': {
          if (args.length < 2 && envKey === '') {
            inv.io.stderr.write(`Invalid command ${l} (command type or key is not provided)\n`);
            continue;
          }
          let parsed: { watchArgs: string[]; execArgs: string[] };
          try {
            parsed = parseWatchArgs(osArgs, args, envKey, envRange, true, opts);
          } catch (err) {
            if (err instanceof WatchArgsError) throw new CtlExit(ExitCode.badArgs, err.message);
            throw err;
          }
          let spec: WatchSpec;
          try {
            spec = watchSpecOf(parsed.watchArgs, opts);
          } catch (err) {
            if (!(err instanceof WatchArgsError)) throw err;
            inv.io.stderr.write(`Invalid command ${l} (${err.message})\n`);
            continue;
          }
          const watcher = mux.watch(spec);
          printWatchCh(inv, display, watcher, parsed.execArgs).catch(fatal);
          // clientv3.Watch returns once the watch is set up: until then etcdctl reads no further line.
          await watcher.established;
          break;
        }
        case 'progress':
          await mux.requestProgress();
          break;
        default:
          inv.io.stderr.write(`Invalid command ${l} (only support watch)\n`);
      }
    }
  };
  try {
    await Promise.race([readLoop(), failed]);
  } finally {
    mux.stop();
    client.close();
  }
}

export function watchCommand(): CommandDef {
  return {
    use: 'watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]',
    short: 'Watches events stream on keys or prefixes',
    flags: watchFlags,
    run: runWatch,
  };
}
