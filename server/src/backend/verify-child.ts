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
  let entries = 0;
  for (const b of buckets) {
    const db = env.openDB<Buffer, Buffer>(b, { encoding: 'binary', keyEncoding: 'binary' });
    for (const { key, value } of db.getRange({})) entries += key.length >= 0 && value.length >= 0 ? 1 : 0;
  }
  await env.close();
  process.stdout.write(`${entries}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
