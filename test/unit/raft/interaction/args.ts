import type { CmdArg, TestData } from './datadriven.js';

/*
 * Reading a command's arguments. Malformed scripts are the test author's mistake, not the system's:
 * they throw (and fail the test) instead of printing into the transcript.
 */

function fail(d: TestData, msg: string): never {
  throw new Error(`${d.pos}: ${d.cmd}: ${msg}`);
}

function parseId(d: TestData, s: string): bigint {
  if (!/^[1-9]\d*$/.test(s)) fail(d, `expected a node id, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

/** The bare (key-only) arguments, as node ids: `process-ready 1 2 3`. */
export function nodeIds(d: TestData): bigint[] {
  return d.cmdArgs.filter((a) => a.vals.length === 0).map((a) => parseId(d, a.key));
}

/** The first argument as a node id: `campaign 1`. */
export function firstAsId(d: TestData): bigint {
  const a = d.cmdArgs[0];
  if (a === undefined || a.vals.length > 0) fail(d, 'expected a node id as first argument');
  return parseId(d, a.key);
}

/** The n-th bare argument as a string (`propose 1 foo` → 'foo' for n = 1). */
export function bareArg(d: TestData, n: number): string {
  const a = d.cmdArgs.filter((x) => x.vals.length === 0)[n];
  if (a === undefined) fail(d, `expected at least ${n + 1} arguments`);
  return a.key;
}

function keyed(d: TestData, key: string): CmdArg | undefined {
  return d.cmdArgs.find((a) => a.key === key && a.vals.length > 0);
}

/** Rejects key=value arguments the command does not know (a typo would otherwise be ignored). */
export function onlyKeys(d: TestData, known: readonly string[]): void {
  for (const a of d.cmdArgs) {
    if (a.vals.length > 0 && !known.includes(a.key)) fail(d, `unknown argument ${a.key}`);
  }
}

export function stringArg(d: TestData, key: string): string | undefined {
  const a = keyed(d, key);
  if (a === undefined) return undefined;
  if (a.vals.length !== 1) fail(d, `${key} takes one value`);
  return a.vals[0];
}

export function intArg(d: TestData, key: string): number | undefined {
  const s = stringArg(d, key);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) fail(d, `${key} must be a non-negative integer, got ${s}`);
  return Number(s);
}

export function boolArg(d: TestData, key: string): boolean | undefined {
  const s = stringArg(d, key);
  if (s === undefined) return undefined;
  if (s !== 'true' && s !== 'false') fail(d, `${key} must be true or false, got ${s}`);
  return s === 'true';
}

export function idListArg(d: TestData, key: string): bigint[] {
  return keyed(d, key)?.vals.map((v) => parseId(d, v)) ?? [];
}

export function requiredIdArg(d: TestData, key: string): bigint {
  const s = stringArg(d, key);
  if (s === undefined) fail(d, `missing ${key}=`);
  return parseId(d, s);
}
