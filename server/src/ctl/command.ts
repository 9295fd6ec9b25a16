// A command tree with github.com/spf13/cobra's lookup rules as etcdctl configures them: prefix matching
// of command names (`etcdctl ge foo` runs get; an ambiguous prefix is an unknown command), flags
// anywhere on the line (global ones included), persistent flags inherited by subcommands, "Did you
// mean this?" suggestions, and the help flag/command. Names and arguments are byte strings.
import { CtlExit, ExitCode } from './exit.js';
import { Flag, FlagError, FlagSet, makeFlags, type FlagDef } from './flag-set.js';
import { goQuote } from './go-quote.js';
import type { CtlIO } from './io.js';

export interface Invocation {
  readonly command: Command;
  /** The command's flags: its own and those it inherits. */
  readonly flags: FlagSet;
  /** Positional arguments after flag parsing. */
  readonly args: string[];
  readonly io: CtlIO;
  /** The whole command line after the program name, before any parsing (Go's os.Args[1:]; watch uses it). */
  readonly rawArgs?: readonly string[];
}

export interface CommandDef {
  /** "get [options] <key> [range_end]": the first word is the name. */
  use: string;
  short: string;
  long?: string;
  flags?: readonly FlagDef[];
  /** Flags inherited by subcommands (the root's global flags, endpoint's --cluster). */
  persistentFlags?: readonly FlagDef[];
  children?: readonly CommandDef[];
  /**
   * Checks between flags, after parsing (throws FlagError): reported as a bad flag is, with the usage.
   * For Cairn's own flags only; etcdctl's commands check their flags in run, in etcdctl's order.
   */
  checkFlags?: (flags: FlagSet) => void;
  run?: (inv: Invocation) => Promise<void>;
}

export class Command {
  readonly name: string;
  readonly children: Command[];
  /** Flags defined on this command, the help flag included (cobra's LocalFlags). */
  readonly ownFlags: Flag[];
  readonly persistentFlags: Flag[];

  constructor(
    readonly def: CommandDef,
    readonly parent: Command | undefined,
  ) {
    this.name = def.use.split(' ')[0] ?? '';
    this.persistentFlags = makeFlags(def.persistentFlags ?? []);
    const help: FlagDef = {
      name: 'help',
      shorthand: 'h',
      kind: 'bool',
      default: false,
      usage: `help for ${this.name}`,
    };
    this.ownFlags = [...makeFlags(def.flags ?? []), ...this.persistentFlags, new Flag(help)];
    this.children = (def.children ?? []).map((c) => new Command(c, this));
  }

  get runnable(): boolean {
    return this.def.run !== undefined;
  }

  /** "cairnctl endpoint health". */
  path(): string {
    return this.parent === undefined ? this.name : `${this.parent.path()} ${this.name}`;
  }

  /** Persistent flags of the ancestors (cobra's InheritedFlags), nearest first. */
  inheritedFlags(): Flag[] {
    const out: Flag[] = [];
    for (let p = this.parent; p !== undefined; p = p.parent) out.push(...p.persistentFlags);
    return new FlagSet(out).sorted();
  }

  /** All flags this command parses. */
  flagSet(): FlagSet {
    return new FlagSet([...this.ownFlags, ...this.inheritedFlags()]);
  }

  /** Subcommands sorted by name (cobra's Commands() with command sorting). */
  sortedChildren(): Command[] {
    return [...this.children].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** cobra's stripFlags: the non-flag words of `args`, skipping the values of flags that take one. */
function stripFlags(args: readonly string[], fs: FlagSet): string[] {
  const words: string[] = [];
  const rest = [...args];
  while (rest.length > 0) {
    const s = rest.shift()!;
    if (s === '--') break;
    const longWithValue =
      s.startsWith('--') && !s.includes('=') && fs.lookup(s.slice(2))?.noOptDefVal !== 'true';
    const shortWithValue =
      s.startsWith('-') &&
      !s.includes('=') &&
      s.length === 2 &&
      fs.lookupShorthand(s.slice(1))?.noOptDefVal !== 'true';
    if (longWithValue || shortWithValue) {
      if (rest.length <= 1) break;
      rest.shift();
      continue;
    }
    if (s !== '' && !s.startsWith('-')) words.push(s);
  }
  return words;
}

/** cobra's argsMinusFirstX: removes the first non-flag occurrence of `x`. */
function argsMinusFirstX(args: readonly string[], x: string, fs: FlagSet): string[] {
  for (let pos = 0; pos < args.length; pos++) {
    const s = args[pos]!;
    if (s === '--') break;
    const longWithValue =
      s.startsWith('--') && !s.includes('=') && fs.lookup(s.slice(2))?.noOptDefVal !== 'true';
    const shortWithValue =
      s.startsWith('-') &&
      !s.includes('=') &&
      s.length === 2 &&
      fs.lookupShorthand(s.slice(1))?.noOptDefVal !== 'true';
    if (longWithValue || shortWithValue) {
      pos++;
      continue;
    }
    if (!s.startsWith('-') && s === x) return [...args.slice(0, pos), ...args.slice(pos + 1)];
  }
  return [...args];
}

/** cobra's findNext with EnablePrefixMatching. */
function findNext(c: Command, next: string): Command | undefined {
  const matches: Command[] = [];
  for (const child of c.children) {
    if (child.name === next) return child;
    if (child.name.startsWith(next)) matches.push(child);
  }
  return matches.length === 1 ? matches[0] : undefined;
}

/** Levenshtein distance, case-insensitive (cobra's ld(s, t, true)). */
function levenshtein(s: string, t: string): number {
  s = s.toLowerCase();
  t = t.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let j = 1; j <= t.length; j++) {
    for (let i = 1; i <= s.length; i++) {
      d[i]![j] =
        s[i - 1] === t[j - 1]
          ? d[i - 1]![j - 1]!
          : Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + 1);
    }
  }
  return d[s.length]![t.length]!;
}

/** cobra's findSuggestions: "\n\nDid you mean this?\n\tget\n" or "". */
function suggestionsFor(c: Command, typed: string): string {
  const names = c.children
    .filter((child) => child.name !== 'help')
    .filter(
      (child) =>
        levenshtein(typed, child.name) <= 2 || child.name.toLowerCase().startsWith(typed.toLowerCase()),
    )
    .map((child) => child.name);
  return names.length === 0 ? '' : `\n\nDid you mean this?\n${names.map((n) => `\t${n}\n`).join('')}`;
}

export interface Found {
  command: Command;
  args: string[];
  /** cobra's legacyArgs error: an unknown command word at the root. */
  error?: string;
}

/** cobra's Command.Find from the root. */
export function findCommand(root: Command, args: readonly string[]): Found {
  let c = root;
  let a = [...args];
  for (;;) {
    const words = stripFlags(a, c.flagSet());
    if (words.length === 0) break;
    const next = findNext(c, words[0]!);
    if (next === undefined) break;
    a = argsMinusFirstX(a, words[0]!, c.flagSet());
    c = next;
  }
  if (c.parent === undefined && c.children.length > 0) {
    const words = stripFlags(a, c.flagSet());
    if (words.length > 0) {
      return {
        command: c,
        args: a,
        error: `unknown command ${goQuote(words[0]!)} for ${goQuote(c.path())}${suggestionsFor(c, words[0]!)}`,
      };
    }
  }
  return { command: c, args: a };
}

export interface ExecuteOptions {
  /** Renders a command's usage text (etcdctl's help template), written to stdout. */
  usage(cmd: Command): string;
}

/**
 * cobra's ExecuteC followed by etcdctl's `ExitWithError(ExitError, err)` for the error it returns.
 * Throws CtlExit; returns normally on success.
 */
export async function executeCommand(
  root: Command,
  argv: readonly string[],
  io: CtlIO,
  opts: ExecuteOptions,
): Promise<void> {
  const found = findCommand(root, argv);
  if (found.error !== undefined) {
    io.stderr.write(`Error: ${found.error}\nRun '${found.command.path()} --help' for usage.\n`);
    throw new CtlExit(ExitCode.error, found.error);
  }
  const cmd = found.command;
  const flags = cmd.flagSet();
  let args: string[];
  try {
    args = flags.parse(found.args);
    cmd.def.checkFlags?.(flags);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    // cobra prints the error and the usage (etcdctl's usage function writes to stdout, and cobra then
    // prints the empty string it captured plus a newline); etcdctl then prints the error again.
    io.stderr.write(`Error: ${err.message}\n`);
    io.stdout.write(opts.usage(cmd));
    io.stderr.write('\n');
    throw new CtlExit(ExitCode.error, err.message);
  }
  if (flags.bool('help') || !cmd.runnable) {
    io.stdout.write(opts.usage(cmd));
    return;
  }
  await cmd.def.run!({ command: cmd, flags, args, io, rawArgs: argv });
}
