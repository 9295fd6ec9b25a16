// Fails (exit 1) if server/src/proto/gen/ is not exactly what `npm run gen` produces from
// server/src/proto/**/*.proto. Run by `npm test`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultOutDir, generate, listFiles, repoRoot } from './gen-proto.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-verify-proto-'));
const problems = [];
try {
  generate(tmp);
  const want = listFiles(tmp);
  const have = listFiles(defaultOutDir);
  const shown = (rel) => path.relative(repoRoot, path.join(defaultOutDir, rel)).split(path.sep).join('/');
  for (const rel of want) {
    if (!have.includes(rel)) {
      problems.push(`${shown(rel)}: missing`);
    } else if (!fs.readFileSync(path.join(tmp, rel)).equals(fs.readFileSync(path.join(defaultOutDir, rel)))) {
      problems.push(`${shown(rel)}: differs from freshly generated code`);
    }
  }
  for (const rel of have) {
    if (!want.includes(rel)) problems.push(`${shown(rel)}: stale (no longer generated)`);
  }
} catch (err) {
  console.error(`verify-proto: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error('verify-proto: generated protobuf code is out of date:');
  for (const p of problems) console.error(`  ${p}`);
  console.error('Run `npm run gen` and commit the result.');
  process.exit(1);
}
console.log('verify-proto: server/src/proto/gen/ is up to date');
