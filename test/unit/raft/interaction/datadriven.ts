import { readFileSync, writeFileSync } from 'node:fs';

/*
 * A tiny reader/runner for golden-transcript scripts in the format of cockroachdb/datadriven (the one
 * etcd-io/raft's testdata/*.txt use). A script is a sequence of blocks:
 *
 *   # comments and blank lines between blocks
 *   command arg key=value key=(v1,v2) key=(v1 v2)
 *   optional input lines
 *   ----
 *   expected output, up to the next blank line
 *
 * An expected output that contains blank lines is written between doubled separators:
 *
 *   ----
 *   ----
 *   output with
 *
 *   a blank line
 *   ----
 *   ----
 */

/** One argument of a command line: `key` alone, `key=value`, or `key=(v1,v2,...)`. */
export interface CmdArg {
  key: string;
  vals: string[];
}

export interface TestData {
  /** `file:line` of the command, for failure messages. */
  pos: string;
  cmd: string;
  cmdArgs: CmdArg[];
  /** The input lines between the command and the separator, joined with newlines. */
  input: string;
  /** The expected output, every line ending in a newline ('' when there is none). */
  expected: string;
}

interface Block {
  data: TestData;
  /** Index of the line holding the first `----`. */
  sepLine: number;
  /** Index of the first line after the block's output (and closing separators). */
  endLine: number;
}

/** Lines a single script may have; a guard against feeding it something that is not a script. */
const SCRIPT_LINES_MAX = 1_000_000;

function parseBlocks(path: string, text: string): { lines: string[]; blocks: Block[] } {
  const lines = text.split('\n');
  if (lines.length > SCRIPT_LINES_MAX) throw new Error(`${path}: more than ${SCRIPT_LINES_MAX} lines`);
  const blocks: Block[] = [];
  let i = 0;
  // Bounded: every iteration consumes at least one line.
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const cmdLine = i;
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') {
      input.push(lines[i] ?? '');
      i++;
    }
    if (i >= lines.length) throw new Error(`${path}:${cmdLine + 1}: command without ---- separator`);
    const sepLine = i;
    i++;
    const output: string[] = [];
    if (lines[i] === '----') {
      // Doubled separators: the output ends at the next `----` `----` pair.
      i++;
      while (i < lines.length && !(lines[i] === '----' && lines[i + 1] === '----')) {
        output.push(lines[i] ?? '');
        i++;
      }
      if (i >= lines.length) throw new Error(`${path}:${sepLine + 1}: unterminated ---- ---- output`);
      i += 2;
    } else {
      while (i < lines.length && (lines[i] ?? '') !== '') {
        output.push(lines[i] ?? '');
        i++;
      }
    }
    const { cmd, cmdArgs } = parseCommandLine(`${path}:${cmdLine + 1}`, line);
    blocks.push({
      data: {
        pos: `${path}:${cmdLine + 1}`,
        cmd,
        cmdArgs,
        input: input.join('\n'),
        expected: output.map((l) => l + '\n').join(''),
      },
      sepLine,
      endLine: i,
    });
  }
  return { lines, blocks };
}

/** Splits a command line into words, keeping `key=(a, b)` together. */
export function parseCommandLine(pos: string, line: string): { cmd: string; cmdArgs: CmdArg[] } {
  const words: string[] = [];
  let word = '';
  let depth = 0;
  for (const ch of line) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new Error(`${pos}: unbalanced ) in ${JSON.stringify(line)}`);
    if (depth === 0 && /\s/.test(ch)) {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += ch;
    }
  }
  if (depth !== 0) throw new Error(`${pos}: unbalanced ( in ${JSON.stringify(line)}`);
  if (word !== '') words.push(word);
  const [cmd, ...rest] = words;
  if (cmd === undefined) throw new Error(`${pos}: empty command`);
  const cmdArgs = rest.map((w): CmdArg => {
    const eq = w.indexOf('=');
    if (eq < 0) return { key: w, vals: [] };
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (value.startsWith('(') && value.endsWith(')')) {
      return {
        key,
        vals: value
          .slice(1, -1)
          .split(/[\s,]+/)
          .filter((v) => v !== ''),
      };
    }
    return { key, vals: [value] };
  });
  return { cmd, cmdArgs };
}

/** An actual output in the form it is compared and written in: '' or lines each ending in a newline. */
function normalize(actual: string): string {
  if (actual === '' || actual.endsWith('\n')) return actual;
  return actual + '\n';
}

export interface Mismatch {
  pos: string;
  command: string;
  expected: string;
  actual: string;
}

/**
 * Runs every block of the script at `path` through `handle`. Without `rewrite`, returns the first
 * block whose output differs (later blocks depend on the state it left, so they are not run). With
 * `rewrite`, replaces every expected output by the actual one in the file and returns undefined.
 */
export function runScript(
  path: string,
  handle: (d: TestData) => string,
  rewrite: boolean,
): Mismatch | undefined {
  const { lines, blocks } = parseBlocks(path, readFileSync(path, 'utf8'));
  const out: string[] = [];
  let cursor = 0;
  for (const b of blocks) {
    const actual = normalize(handle(b.data));
    if (!rewrite) {
      if (actual !== b.data.expected) {
        const command = lines[b.sepLine - 1 - (b.data.input === '' ? 0 : b.data.input.split('\n').length)];
        return { pos: b.data.pos, command: command ?? b.data.cmd, expected: b.data.expected, actual };
      }
      continue;
    }
    out.push(...lines.slice(cursor, b.sepLine));
    const body = actual === '' ? [] : actual.slice(0, -1).split('\n');
    if (body.some((l) => l === '')) {
      out.push('----', '----', ...body, '----', '----');
    } else {
      out.push('----', ...body);
    }
    cursor = b.endLine;
  }
  if (rewrite) {
    out.push(...lines.slice(cursor));
    writeFileSync(path, out.join('\n'));
  }
  return undefined;
}
