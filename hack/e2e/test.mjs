// npm run test:e2e: see test/e2e/env/cli.ts and hack/e2e/README.md.
import { runTest } from '../../dist/test/e2e/env/cli.js';

process.exitCode = await runTest(process.argv.slice(2));
