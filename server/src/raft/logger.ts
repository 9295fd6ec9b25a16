/**
 * The core's logging port. The core only formats lines; where they go (winston in the server, a
 * transcript in scenario tests, nowhere in the simulator) is the application's choice.
 */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

export const discardLogger: Logger = {
  info: () => {},
  warn: () => {},
};
