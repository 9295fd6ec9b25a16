// npm run e2e:down: see test/e2e/env/cli.ts and hack/e2e/README.md.
import { runDown } from '../../dist/test/e2e/env/cli.js';

process.exitCode = await runDown(process.argv.slice(2));
