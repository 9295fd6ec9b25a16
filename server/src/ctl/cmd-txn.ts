// `txn [-i]` (etcdctl/ctlv3/command/txn_command.go): reads compares, success ops and failure ops from
// stdin, each block ended by an empty line (so the input must end with one), commits without a deadline
// (etcdctl uses context.Background here), and prints SUCCESS/FAILURE and each response. Reaching the end
// of stdin before a block's empty line is `Error: EOF` (exit 3). With -i each block is prompted for.
import { KVService, type Compare, type RequestOp } from '../proto/gen/etcdserverpb/rpc.js';
import { callOrExit } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, mustClient } from './global-flags.js';
import { goTrimSpace } from './go-scan.js';
import type { StdinReader } from './io.js';
import { txnRequest } from '../proto/messages.js';
import { parseCompare, parseRequestOp, TxnSyntaxError } from './txn-syntax.js';

/** Reads lines until an empty one; each non-empty line goes through `parse`. */
async function readBlock<T>(stdin: StdinReader, parse: (line: string) => T | Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const { line, eof } = await stdin.readLine();
    if (eof) throw new CtlExit(ExitCode.invalidInput, 'EOF');
    const trimmed = goTrimSpace(line);
    if (trimmed.length === 0) return out;
    try {
      out.push(await parse(trimmed));
    } catch (err) {
      if (err instanceof TxnSyntaxError) throw new CtlExit(ExitCode.invalidInput, err.message);
      throw err;
    }
  }
}

async function runTxn(inv: Invocation): Promise<void> {
  if (inv.args.length !== 0) throw new CtlExit(ExitCode.badArgs, 'txn command does not accept argument');
  const interactive = inv.flags.bool('interactive');
  const prompt = (text: string): void => {
    if (interactive) inv.io.stdout.write(`${text}\n`);
  };
  const { cfg, display } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  let compare: Compare[];
  let success: RequestOp[];
  let failure: RequestOp[];
  try {
    prompt('compares:');
    compare = await readBlock(inv.io.stdin, parseCompare);
    prompt('success requests (get, put, del):');
    success = await readBlock(inv.io.stdin, (l) => parseRequestOp(l, inv.io));
    prompt('failure requests (get, put, del):');
    failure = await readBlock(inv.io.stdin, (l) => parseRequestOp(l, inv.io));
  } catch (err) {
    client.close();
    throw err;
  }
  const resp = await callOrExit(
    client,
    KVService.txn,
    txnRequest({ compare, success, failure }),
    'nonRepeatable',
    Infinity,
  );
  display.txn(resp);
}

export function txnCommand(): CommandDef {
  return {
    use: 'txn [options]',
    short: 'Txn processes all the requests in one transaction',
    flags: [
      {
        name: 'interactive',
        shorthand: 'i',
        kind: 'bool',
        default: false,
        usage: 'Input transaction in interactive mode',
      },
    ],
    run: runTxn,
  };
}
