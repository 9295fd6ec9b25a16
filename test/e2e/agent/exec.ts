// Running the system tools the agent drives (ip, nsenter, …): argument vectors, never a shell, with a
// bounded run time, and the tool's stderr in the error.
import { execFile } from 'node:child_process';

const TOOL_TIMEOUT_MS = 30_000;

export function run(file: string, args: readonly string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`));
        return;
      }
      resolve(stdout);
    });
  });
}

/** Absolute paths, so a container's PATH can never change which tool the agent runs. */
export const IP = '/usr/sbin/ip';
export const NSENTER = '/usr/bin/nsenter';
export const UNSHARE = '/usr/bin/unshare';
