// Health checks have to run inside the env netns (nothing there is reachable from the root namespace), and
// Node cannot switch its own network namespace, so each probe is a tiny `node -e` run under ip netns exec.
import { run } from './exec.js';
import { inNetns } from './netns.js';

// argv: url [caFile certFile keyFile]. Without a CA, TLS is not verified: kube-controller-manager and
// kube-scheduler serve a self-signed certificate, and a health probe only needs the status code.
const PROBE_SCRIPT = `
const [url, ca, cert, key] = process.argv.slice(1);
const fs = require('node:fs');
const mod = url.startsWith('https:') ? require('node:https') : require('node:http');
const tls = ca ? { ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key) } : { rejectUnauthorized: false };
const req = mod.get(url, { ...tls, timeout: 3000 }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => { process.stdout.write(res.statusCode + ' ' + body.slice(0, 300)); process.exit(res.statusCode === 200 ? 0 : 1); });
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => { process.stdout.write('error ' + e.message); process.exit(1); });
`;

export interface ProbeTls {
  ca: string;
  cert: string;
  key: string;
}

/** GET `url` from inside netns `ns`: true on HTTP 200, else a string saying what came back. */
export async function probe(ns: string, url: string, tls?: ProbeTls): Promise<true | string> {
  const args = [url, ...(tls ? [tls.ca, tls.cert, tls.key] : [])];
  const argv = inNetns(ns, [process.execPath, '-e', PROBE_SCRIPT, ...args]);
  const r = await run(argv[0] ?? 'ip', argv.slice(1), { allowFailure: true, timeoutMs: 10_000 });
  return r.code === 0 ? true : `${url}: ${(r.stdout || r.stderr).trim()}`;
}
