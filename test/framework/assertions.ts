// Exact assertions on etcdctl results, with failure messages that show the command, the full result
// and (optionally) the server's log tail.
import assert from 'node:assert/strict';
import { etcdctl, formatCommand, type EtcdctlOptions, type EtcdctlResult } from './etcdctl.js';
import type { Member } from './member.js';
import { parseJson, splitStderr } from './output.js';

export interface CtlResult extends EtcdctlResult {
  args: readonly string[];
  stdin?: string;
  /** For failure messages. */
  describe(): string;
}

/** etcdctl bound to one member; results carry their command line for failure messages. */
export function ctlFor(m: Member): (args: readonly string[], opts?: EtcdctlOptions) => Promise<CtlResult> {
  return async (args, opts = {}) => {
    const r = await etcdctl(m.clientUrl, args, opts);
    const stdin = opts.stdin;
    return {
      ...r,
      args,
      ...(stdin !== undefined ? { stdin } : {}),
      describe: () =>
        `$ ${formatCommand(args)}` +
        (stdin !== undefined ? `\n--- stdin\n${stdin}` : '') +
        `\n--- exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}` +
        `\n--- ${m.kind} ${m.name} log tail\n${m.logs().slice(-3000)}`,
    };
  };
}

/** Exit 0, stdout exactly `stdout`, nothing on stderr. */
export function expectOk(r: CtlResult, stdout: string): void {
  assert.equal(r.code, 0, `expected exit 0\n${r.describe()}`);
  assert.equal(r.stdout, stdout, `stdout differs\n${r.describe()}`);
  assert.equal(r.stderr, '', `expected empty stderr\n${r.describe()}`);
}

/** Exit 0, nothing on stderr; returns stdout parsed as JSON (uint64 ids as strings). */
export function expectJson(r: CtlResult): unknown {
  assert.equal(r.code, 0, `expected exit 0\n${r.describe()}`);
  assert.equal(r.stderr, '', `expected empty stderr\n${r.describe()}`);
  assert.ok(r.stdout.endsWith('\n'), `expected stdout to end with a newline\n${r.describe()}`);
  return parseJson(r.stdout);
}

/**
 * A server error as etcdctl 3.4 reports it: exit 1, empty stdout, stderr = the Go client's log line
 * carrying `rpc error: code = <grpcCode> desc = <message>`, then `Error: <message>`.
 */
export function expectRpcError(r: CtlResult, grpcCode: string, message: string): void {
  assert.equal(r.code, 1, `expected exit 1\n${r.describe()}`);
  assert.equal(r.stdout, '', `expected empty stdout\n${r.describe()}`);
  const err = splitStderr(r.stderr);
  assert.deepEqual(err.lines, [`Error: ${message}`], `stderr differs\n${r.describe()}`);
  assert.deepEqual(
    err.clientErrors,
    [`rpc error: code = ${grpcCode} desc = ${message}`],
    `gRPC status differs\n${r.describe()}`,
  );
}

/** A client-side (etcdctl) error: given exit code, empty stdout, stderr exactly `Error: <message>`. */
export function expectClientError(r: CtlResult, exit: number, message: string): void {
  assert.equal(r.code, exit, `expected exit ${exit}\n${r.describe()}`);
  assert.equal(r.stdout, '', `expected empty stdout\n${r.describe()}`);
  const err = splitStderr(r.stderr);
  assert.deepEqual(err.lines, [`Error: ${message}`], `stderr differs\n${r.describe()}`);
  assert.deepEqual(err.clientErrors, [], `unexpected client log lines\n${r.describe()}`);
}
