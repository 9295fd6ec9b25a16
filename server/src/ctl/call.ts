// Running one RPC the way etcdctl's commands do: on failure, ExitWithError(ExitError, toErr(err)).
import { CallFailure, type EtcdClient, type RetryPolicy, type UnaryMethod } from './client.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientErrorText } from './rpc-error.js';

/** The text etcdctl would print for a failed call. */
export function failureText(err: CallFailure): string {
  return clientErrorText(err.rpc, err.deadlinePassed);
}

/** Calls and closes the client; a failure exits 1 with the client's error text. */
export async function callOrExit<Req, Res>(
  client: EtcdClient,
  method: UnaryMethod<Req, Res>,
  request: Req,
  policy: RetryPolicy,
  deadline: number,
): Promise<Res> {
  try {
    return await client.call(method, request, policy, deadline);
  } catch (err) {
    if (err instanceof CallFailure) throw new CtlExit(ExitCode.error, failureText(err));
    throw err;
  } finally {
    client.close();
  }
}
