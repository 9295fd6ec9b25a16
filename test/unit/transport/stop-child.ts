// Child process of stop.test.ts: two members exchange messages and a snapshot, then stop. It never calls
// process.exit on success: the process must end by itself, proving stop() leaves no open handle. An
// unref'd watchdog fails it if something keeps it alive. (Also harmless when run on its own.)
import { randomBytes } from 'node:crypto';
import { MessageType, newMessage } from '../../../server/src/raftpb/types.js';
import { app, connectAll, newMember, removeTempDirs, waitFor } from './harness.js';

const watchdog = setTimeout(() => {
  process.stdout.write('still alive 10 s after stop: open handles\n');
  process.exit(2);
}, 10_000);
watchdog.unref();

const a = await newMember(1n);
const b = await newMember(2n);
connectAll([a, b]);
await waitFor(
  'active',
  () => a.transport.activeSince(2n) !== undefined && b.transport.activeSince(1n) !== undefined,
);
a.transport.send(Array.from({ length: 100 }, (_, i) => app(1n, 2n, i)));
b.transport.send(Array.from({ length: 100 }, (_, i) => app(2n, 1n, i)));
await waitFor('delivered', () => a.raft.processed.length === 100 && b.raft.processed.length === 100);
// Stop while a large snapshot is in flight: in-flight streams must be closed too.
a.transport.send([
  newMessage({
    type: MessageType.MsgSnap,
    from: 1n,
    to: 2n,
    snapshot: {
      data: randomBytes(32 * 1024 * 1024),
      metadata: {
        index: 3,
        term: 1,
        confState: { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
      },
    },
  }),
]);
const started = Date.now();
await Promise.all([a.close(), b.close()]);
removeTempDirs();
process.stdout.write(`stopped in ${Date.now() - started} ms\n`);
