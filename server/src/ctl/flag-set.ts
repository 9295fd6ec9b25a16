// A flag set with github.com/spf13/pflag's parsing rules and error texts, which etcdctl users see:
// interspersed flags and arguments, `--flag=v`, `--flag v`, `-w json`, `-wjson`, `-w=json`, bool flags
// that take no value but accept `--prefix=false`, `--` ending the flags, repeated slice flags appending,
// and messages such as `unknown flag: --foo`, `flag needs an argument: 'w' in -w`,
// `invalid argument "x" for "--rev" flag: strconv.ParseInt: parsing "x": invalid syntax`.
//
// node:util parseArgs is not used: it cannot express these semantics (typed values, `--bool=false`,
// per-flag "changed" state for ETCDCTL_* precedence) nor produce pflag's messages.
//
// All names and values are byte strings (see byte-string.ts).
import { formatGoDuration, GoDurationError, parseGoDuration } from '../util/go-duration.js';
import { GoCsvError, readCsvRecord, writeCsvRecord } from './go-csv.js';
import { goQuote, goQuoteRune } from './go-quote.js';
import { GoNumError, parseGoBool, parseGoInt } from './go-strconv.js';
import { textOf } from './byte-string.js';

interface FlagDefBase {
  name: string;
  shorthand?: string;
  usage: string;
  /** Left out of usage texts (pflag's Hidden). */
  hidden?: boolean;
}

export type FlagDef =
  | (FlagDefBase & { kind: 'bool'; default: boolean })
  | (FlagDefBase & { kind: 'string'; default: string })
  | (FlagDefBase & { kind: 'int64'; default: bigint })
  | (FlagDefBase & { kind: 'duration'; default: bigint })
  | (FlagDefBase & { kind: 'stringSlice'; default: readonly string[] });

type FlagValue = boolean | string | bigint | readonly string[];

/** A flag's parse error, printed by the command layer as `Error: <message>` plus usage. */
export class FlagError extends Error {}

/** One flag and its current value (pflag.Flag + its Value). */
export class Flag {
  value: FlagValue;
  /** Set on the command line or from the environment (pflag's Changed). */
  changed = false;
  /** stringSliceValue's own "changed": the first Set replaces the default, later ones append. */
  private sliceTouched = false;

  constructor(readonly def: FlagDef) {
    this.value = def.default;
  }

  get name(): string {
    return this.def.name;
  }

  /** pflag's Value.Type(). */
  get typeName(): string {
    return this.def.kind;
  }

  /** pflag's NoOptDefVal: bool flags may be given without a value. */
  get noOptDefVal(): string {
    return this.def.kind === 'bool' ? 'true' : '';
  }

  /** pflag's DefValue: the default as text. */
  get defValue(): string {
    return render(this.def.kind, this.def.default);
  }

  toString(): string {
    return render(this.def.kind, this.value);
  }

  /** Value.Set: parses `text`; throws Error with the Value's own message (e.g. strconv's). */
  setValue(text: string): void {
    switch (this.def.kind) {
      case 'bool':
        this.value = parseGoBool(text);
        return;
      case 'string':
        this.value = text;
        return;
      case 'int64':
        this.value = parseGoInt(text, 0);
        return;
      case 'duration':
        this.value = parseGoDuration(textOf(text));
        return;
      case 'stringSlice': {
        const v = readCsvRecord(text);
        this.value = this.sliceTouched ? [...(this.value as string[]), ...v] : v;
        this.sliceTouched = true;
        return;
      }
    }
  }
}

function render(kind: FlagDef['kind'], v: FlagValue): string {
  switch (kind) {
    case 'bool':
      return v ? 'true' : 'false';
    case 'string':
      return v as string;
    case 'int64':
      return (v as bigint).toString();
    case 'duration':
      return formatGoDuration(v as bigint);
    case 'stringSlice':
      return `[${writeCsvRecord(v as string[])}]`;
  }
}

/** A set of flags (a command's local flags merged with the persistent flags it inherits). */
export class FlagSet {
  private readonly byName = new Map<string, Flag>();
  private readonly byShorthand = new Map<string, Flag>();

  constructor(flags: Iterable<Flag>) {
    for (const f of flags) {
      if (this.byName.has(f.name)) continue; // a command's own flag shadows an inherited one
      this.byName.set(f.name, f);
      if (f.def.shorthand !== undefined) this.byShorthand.set(f.def.shorthand, f);
    }
  }

  lookup(name: string): Flag | undefined {
    return this.byName.get(name);
  }

  lookupShorthand(c: string): Flag | undefined {
    return this.byShorthand.get(c);
  }

  /** All flags in pflag's order (sorted by name). */
  sorted(): Flag[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get size(): number {
    return this.byName.size;
  }

  /** FlagSet.Set: sets a flag by name, marking it changed. Throws FlagError with pflag's wording. */
  set(name: string, value: string): void {
    const flag = this.byName.get(name);
    if (flag === undefined) throw new FlagError(`no such flag -${name}`);
    try {
      flag.setValue(value);
    } catch (err) {
      if (!(err instanceof GoNumError || err instanceof GoDurationError || err instanceof GoCsvError))
        throw err;
      const flagName =
        flag.def.shorthand !== undefined ? `-${flag.def.shorthand}, --${flag.name}` : `--${flag.name}`;
      throw new FlagError(`invalid argument ${goQuote(value)} for ${goQuote(flagName)} flag: ${err.message}`);
    }
    flag.changed = true;
  }

  /** FlagSet.Parse with interspersed arguments: returns the positional arguments. */
  parse(args: readonly string[]): string[] {
    const positional: string[] = [];
    let rest = [...args];
    while (rest.length > 0) {
      const s = rest.shift()!;
      if (s.length === 0 || s[0] !== '-' || s.length === 1) {
        positional.push(s);
        continue;
      }
      if (s[1] === '-') {
        if (s.length === 2) {
          positional.push(...rest); // "--" terminates the flags
          break;
        }
        rest = this.parseLong(s, rest);
      } else {
        rest = this.parseShort(s, rest);
      }
    }
    return positional;
  }

  private parseLong(s: string, rest: string[]): string[] {
    const body = s.slice(2);
    if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${s}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const flag = this.byName.get(name);
    if (flag === undefined) throw new FlagError(`unknown flag: --${name}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (flag.noOptDefVal !== '') value = flag.noOptDefVal;
    else if (rest.length > 0) value = rest.shift()!;
    else throw new FlagError(`flag needs an argument: ${s}`);
    this.set(flag.name, value);
    return rest;
  }

  private parseShort(s: string, rest: string[]): string[] {
    // pflag passes the arguments as they were before this group to every shorthand in it.
    const argsAtStart = rest;
    let out = rest;
    let shorthands = s.slice(1);
    while (shorthands.length > 0) {
      const c = shorthands[0]!;
      const flag = this.byShorthand.get(c);
      if (flag === undefined) {
        throw new FlagError(`unknown shorthand flag: ${goQuoteRune(c.charCodeAt(0))} in -${shorthands}`);
      }
      let value: string;
      let next = shorthands.slice(1);
      if (shorthands.length > 2 && shorthands[1] === '=') {
        value = shorthands.slice(2);
        next = '';
      } else if (flag.noOptDefVal !== '') {
        value = flag.noOptDefVal;
      } else if (shorthands.length > 1) {
        value = shorthands.slice(1);
        next = '';
      } else if (argsAtStart.length > 0) {
        value = argsAtStart[0]!;
        out = argsAtStart.slice(1);
      } else {
        throw new FlagError(`flag needs an argument: ${goQuoteRune(c.charCodeAt(0))} in -${shorthands}`);
      }
      this.set(flag.name, value);
      shorthands = next;
    }
    return out;
  }

  bool(name: string): boolean {
    return this.get(name, 'bool') as boolean;
  }

  string(name: string): string {
    return this.get(name, 'string') as string;
  }

  int64(name: string): bigint {
    return this.get(name, 'int64') as bigint;
  }

  duration(name: string): bigint {
    return this.get(name, 'duration') as bigint;
  }

  strings(name: string): readonly string[] {
    return this.get(name, 'stringSlice') as readonly string[];
  }

  changed(name: string): boolean {
    return this.byName.get(name)?.changed ?? false;
  }

  private get(name: string, kind: FlagDef['kind']): FlagValue {
    const f = this.byName.get(name);
    if (f === undefined || f.def.kind !== kind) throw new Error(`flag ${name} (${kind}) is not defined`);
    return f.value;
  }
}

/** Fresh Flag objects for a list of definitions. */
export function makeFlags(defs: readonly FlagDef[]): Flag[] {
  return defs.map((d) => new Flag(d));
}
