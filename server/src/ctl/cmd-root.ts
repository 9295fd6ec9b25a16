// The command tree: the etcdctl commands cairnctl has, in etcdctl's order (the order matters for
// cobra's "Did you mean this?" suggestions), then cobra's help. Each later issue adds its commands here
// (watch, lease, alarm, defrag, snapshot, member, move-leader, …).
import { compactionCommand } from './cmd-compaction.js';
import { alarmCommand, defragCommand } from './cmd-maintenance.js';
import { snapshotCommand } from './cmd-snapshot.js';
import { backupCommand } from './cmd-backup.js';
import { delCommand } from './cmd-del.js';
import { endpointCommand } from './cmd-endpoint.js';
import { getCommand } from './cmd-get.js';
import { leaseCommand } from './cmd-lease.js';
import { memberCommand } from './cmd-member.js';
import { moveLeaderCommand } from './cmd-move-leader.js';
import { putCommand } from './cmd-put.js';
import { txnCommand } from './cmd-txn.js';
import { watchCommand } from './cmd-watch.js';
import { Command, findCommand, type CommandDef, type Invocation } from './command.js';
import { globalFlagDefs } from './global-flags.js';
import { etcdctlUsage, type UsageInfo } from './usage.js';
import { goQuote } from './go-quote.js';

export const programName = 'cairnctl';

/** cairnctl's version, and the etcdctl API version whose behaviour it reproduces. */
export const versionInfo: UsageInfo = { version: '0.1.0', apiVersion: '3.4' };

function versionCommand(): CommandDef {
  return {
    use: 'version',
    short: 'Prints the version of cairnctl',
    run: (inv) => {
      inv.io.stdout.write(
        `${programName} version: ${versionInfo.version}\nAPI version: ${versionInfo.apiVersion}\n`,
      );
      return Promise.resolve();
    },
  };
}

/** cobra's help command: `help [command]`. */
function helpCommand(): CommandDef {
  return {
    use: 'help [command]',
    short: 'Help about any command',
    long: `Help provides help for any command in the application.
Simply type ${programName} help [path to command] for full details.`,
    run: (inv: Invocation) => {
      let root = inv.command;
      while (root.parent !== undefined) root = root.parent;
      const found = findCommand(root, inv.args);
      if (found.error !== undefined) {
        inv.io.stderr.write(
          `Unknown help topic [${inv.args.map((a) => (a.includes('`') ? goQuote(a) : `\`${a}\``)).join(' ')}]\n`,
        );
        inv.io.stdout.write(etcdctlUsage(root, versionInfo));
      } else {
        inv.io.stdout.write(etcdctlUsage(found.command, versionInfo));
      }
      return Promise.resolve();
    },
  };
}

export function rootCommand(): Command {
  return new Command(
    {
      use: programName,
      short: 'A simple command line client for etcd3.',
      persistentFlags: globalFlagDefs,
      children: [
        getCommand(),
        putCommand(),
        delCommand(),
        txnCommand(),
        compactionCommand(),
        alarmCommand(),
        defragCommand(),
        endpointCommand(),
        moveLeaderCommand(),
        watchCommand(),
        versionCommand(),
        leaseCommand(),
        memberCommand(),
        snapshotCommand(),
        backupCommand(),
        helpCommand(),
      ],
    },
    undefined,
  );
}
