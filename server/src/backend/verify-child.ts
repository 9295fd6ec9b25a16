#!/usr/bin/env node
/**
 * Child process of verifyInChild: opens the lmdb environment read-only and reads every entry of every
 * bucket named on the command line. Exit 0: the file is readable. Any error: exit 1 with the reason.
 * A crash (SIGSEGV on a damaged page) is seen by the parent as a signal.
 */
import { open } from 'lmdb';

const [dir, ...buckets] = process.argv.slice(2);
try {
  if (dir === undefined) throw new Error('usage: verify-child <dir> <bucket>...');
  const env = open({ path: dir, readOnly: true, maxDbs: 16 });
  const missing: string[] = [];
  for (const b of buckets) {
    // Read-only, a sub-database that does not exist comes back undefined.
    const db = env.openDB<Buffer, Buffer>(b, { encoding: 'binary', keyEncoding: 'binary' }) as
      ReturnType<typeof env.openDB<Buffer, Buffer>> | undefined;
    if (db === undefined) {
      missing.push(b);
      continue;
    }
    for (const { key, value } of db.getRange({}))
      if (key.length < 0 || value.length < 0) throw new Error('unreachable');
  }
  await env.close();
  process.stdout.write(JSON.stringify({ missing }) + '\n');
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
