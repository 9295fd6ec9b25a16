#!/usr/bin/env node
// cairnctl: the etcdctl-compatible command line client for Cairn (see server/src/ctl/README.md).
import { runCairnctl } from '../ctl/main.js';
import { processIO } from '../ctl/node-io.js';

const io = processIO();
const code = await runCairnctl(process.argv.slice(2), io, io.apiVersion);
io.close();
await io.flush();
// gRPC channels and connectivity watches may still hold the event loop; the command is done.
process.exit(code);
