// cairnctl's main: etcdctl's main + ctlv3.Start. Runs one command line and returns the exit code;
// everything it prints goes through `io`.
import { bytesOf } from './byte-string.js';
import { programName, rootCommand, versionInfo } from './cmd-root.js';
import { executeCommand } from './command.js';
import { CtlExit, ExitCode, GoPanic } from './exit.js';
import type { CtlIO } from './io.js';
import { etcdctlUsage } from './usage.js';

/**
 * Runs `cairnctl <argv...>`. `apiVersion` is ETCDCTL_API (etcdctl removes it from the environment before
 * parsing; "" and "3" select the v3 API, the only one cairnctl has).
 */
export async function runCairnctl(argv: readonly string[], io: CtlIO, apiVersion = ''): Promise<number> {
  if (apiVersion !== '' && apiVersion !== '3') {
    io.stderr.write(bytesOf(`${programName}: unsupported API version ${apiVersion}\n`));
    return ExitCode.error;
  }
  try {
    await executeCommand(rootCommand(), argv.map(bytesOf), io, {
      usage: (c) => etcdctlUsage(c, versionInfo),
    });
    return ExitCode.success;
  } catch (err) {
    if (err instanceof CtlExit) {
      if (err.errorText !== undefined) io.stderr.write(`Error: ${err.errorText}\n`);
      return err.code;
    }
    if (err instanceof GoPanic) {
      // etcdctl crashes here with a Go stack trace; cairnctl prints the same header and exit code.
      io.stderr.write(`panic: ${err.panicValue}\n\ngoroutine 1 [running]:\n`);
      return 2;
    }
    throw err;
  }
}
