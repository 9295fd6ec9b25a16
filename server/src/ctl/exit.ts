// How cairnctl ends, mirroring etcdctl (etcdctl/ctlv3/command/error.go): ExitWithError prints
// "Error: <err>" to stderr and exits with one of these codes.

export const ExitCode = {
  success: 0,
  error: 1,
  badConnection: 2,
  /** txn (and watch) input that does not parse. */
  invalidInput: 3,
  /** a valid flag with an unsupported value (e.g. -w table for get, --consistency=x). */
  badFeature: 4,
  interrupted: 5,
  io: 6,
  badArgs: 128,
} as const;

/** Thrown to end the command: prints `Error: <message>` (unless message is undefined) and exits. */
export class CtlExit extends Error {
  constructor(
    readonly code: number,
    /** Byte string printed after "Error: "; undefined exits silently (etcdctl's bare os.Exit). */
    readonly errorText: string | undefined,
  ) {
    super(errorText ?? `exit ${code}`);
  }
}

/** A Go runtime panic in etcdctl (e.g. an unknown txn compare operator): exit code 2 with a panic header. */
export class GoPanic extends Error {
  constructor(readonly panicValue: string) {
    super(`panic: ${panicValue}`);
  }
}

export function exitWithError(code: number, message: string): never {
  throw new CtlExit(code, message);
}
