// Free TCP port allocation on 127.0.0.1: listen on port 0, read the port the kernel chose, close.
// There is an unavoidable window between close and the server's bind; ports handed out by this
// process are never handed out twice, which removes collisions between members of one test file.
import { createServer } from 'node:net';

const handedOut = new Set<number>();

function listenOnce(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** One free port on 127.0.0.1 (bounded: at most 50 attempts). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce();
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: could not find an unused port on 127.0.0.1 in 50 attempts');
}

/** `n` distinct free ports on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  return ports;
}
