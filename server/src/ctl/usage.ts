// Usage texts. etcdctl replaces cobra's usage with its own template (etcdctl/ctlv3/help.go: NAME, USAGE,
// VERSION, COMMANDS, DESCRIPTION, OPTIONS, GLOBAL OPTIONS, aligned by text/tabwriter); the throw-away
// cobra commands that parse txn operations keep cobra's default template with pflag's flag list.
import type { Command } from './command.js';
import type { Flag } from './flag-set.js';
import { goQuote } from './go-quote.js';
import { formatTabs } from './tab-writer.js';

export interface UsageInfo {
  /** Shown under VERSION for the root command. */
  version: string;
  apiVersion: string;
}

/** Flags shown in usage texts, sorted by name. */
function visible(flags: readonly Flag[]): Flag[] {
  return flags
    .filter((f) => f.def.hidden !== true)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** cobra's UseLine: the parent's path, the use text, and " [flags]" (every command has --help). */
function useLine(cmd: Command): string {
  const use = cmd.parent === undefined ? cmd.def.use : `${cmd.parent.path()} ${cmd.def.use}`;
  return use.includes('[flags]') ? use : `${use} [flags]`;
}

/** help.go's cmdName: the command's path below `start`. */
function cmdName(cmd: Command, start: Command): string {
  const parts = [cmd.name];
  for (let c = cmd; c.parent !== undefined && c.parent.name !== start.name; c = c.parent) {
    parts.unshift(c.parent.name);
  }
  return parts.join(' ');
}

function allSubCommands(cmd: Command): Command[] {
  return cmd.sortedChildren().flatMap((c) => [c, ...allSubCommands(c)]);
}

/** help.go's etcdFlagUsages: `      --name=default<TAB>usage` lines. */
function etcdFlagUsages(flags: readonly Flag[]): string {
  return flags
    .map((f) => {
      let line = f.def.shorthand !== undefined ? `  -${f.def.shorthand}, --${f.name}` : `      --${f.name}`;
      const def = f.def.kind === 'string' ? goQuote(f.defValue) : f.defValue;
      line += f.noOptDefVal !== '' ? `[=${def}]` : `=${def}`;
      return `${line}\t${f.def.usage}\n`;
    })
    .join('');
}

/** etcdctl's usage/help text for `cmd`. */
export function etcdctlUsage(cmd: Command, info: UsageInfo): string {
  const root = cmd.parent === undefined;
  const hasSub = cmd.children.length > 0;
  let t = 'NAME:\n';
  t += `\t${root ? cmd.name : cmdName(cmd, rootOf(cmd))} - ${cmd.def.short}\n`;
  t += `\nUSAGE:\n\t${useLine(cmd)}\n`;
  if (root) t += `\nVERSION:\n\t${info.version}\n`;
  if (hasSub) t += `\nAPI VERSION:\n\t${info.apiVersion}\n`;
  if (hasSub) {
    t += '\n\nCOMMANDS:\n';
    for (const sub of allSubCommands(cmd)) {
      if (sub.runnable) t += `\t${cmdName(sub, cmd)}\t${sub.def.short}\n`;
    }
  }
  if (cmd.def.long !== undefined && cmd.def.long !== '') {
    t += '\nDESCRIPTION:\n';
    for (const line of cmd.def.long.replace(/^[\n\t ]+|[\n\t ]+$/g, '').split('\n')) t += `\t${line}\n`;
  }
  const local = visible(cmd.ownFlags);
  if (local.length > 0) t += `\nOPTIONS:\n${etcdFlagUsages(local)}`;
  const inherited = visible(cmd.inheritedFlags());
  if (inherited.length > 0) t += `\nGLOBAL OPTIONS:\n${etcdFlagUsages(inherited)}`;
  t += '\n';
  return formatTabs(t);
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent !== undefined) c = c.parent;
  return c;
}

/** pflag's UnquoteUsage: a `backquoted` word in the usage names the value, else the type does. */
function unquoteUsage(f: Flag): { name: string; usage: string } {
  const u = f.def.usage;
  const i = u.indexOf('`');
  if (i >= 0) {
    const j = u.indexOf('`', i + 1);
    if (j >= 0) {
      const name = u.slice(i + 1, j);
      return { name, usage: u.slice(0, i) + name + u.slice(j + 1) };
    }
  }
  const typeNames: Record<string, string> = { bool: '', int64: 'int', stringSlice: 'strings' };
  return { name: typeNames[f.typeName] ?? f.typeName, usage: u };
}

/** pflag's FlagUsages (no wrapping). */
function pflagUsages(flags: readonly Flag[]): string {
  const lines: string[] = [];
  let maxlen = 0;
  for (const f of flags) {
    let line = f.def.shorthand !== undefined ? `  -${f.def.shorthand}, --${f.name}` : `      --${f.name}`;
    const { name, usage } = unquoteUsage(f);
    if (name !== '') line += ` ${name}`;
    line += '\x00';
    maxlen = Math.max(maxlen, line.length);
    line += usage;
    const zero =
      f.def.kind === 'bool'
        ? f.defValue === 'false'
        : f.def.kind === 'duration'
          ? f.defValue === '0s'
          : f.def.kind === 'int64'
            ? f.defValue === '0'
            : f.def.kind === 'string'
              ? f.defValue === ''
              : f.defValue === '[]';
    if (!zero)
      line += f.def.kind === 'string' ? ` (default ${goQuote(f.defValue)})` : ` (default ${f.defValue})`;
    lines.push(line);
  }
  return lines
    .map((line) => {
      const sidx = line.indexOf('\x00');
      return `${line.slice(0, sidx)} ${' '.repeat(maxlen - sidx)} ${line.slice(sidx + 1)}\n`;
    })
    .join('');
}

/** cobra's default usage template for a subcommand of a nameless root (what txn's op parser prints). */
export function cobraDefaultUsage(cmd: Command): string {
  const local = visible(cmd.ownFlags);
  return `Usage:\n  ${useLine(cmd)}\n\nFlags:\n${pflagUsages(local).replace(/\s+$/, '')}\n`;
}
