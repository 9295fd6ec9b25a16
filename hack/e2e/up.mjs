// npm run e2e:up: see test/e2e/env/cli.ts and hack/e2e/README.md.
import { runUp } from '../../dist/test/e2e/env/cli.js';

process.exitCode = await runUp(process.argv.slice(2));
