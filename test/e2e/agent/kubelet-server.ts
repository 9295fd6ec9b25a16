// The slice of the kubelet's HTTPS API that `kubectl logs` needs: the apiserver proxies
// GET /containerLogs/<namespace>/<pod>/<container> to the node's InternalIP on port 10250. TLS both
// ways: the node serves a certificate of the environment's CA, and only clients with a certificate of that
// CA (the apiserver's --kubelet-client-certificate) are answered.
//
// Query parameters, as the kubelet takes them: follow, previous, tailLines, limitBytes. timestamps,
// sinceSeconds and sinceTime need a time per line, which the agent's log files (the container's raw
// stdout and stderr) do not have: they are refused with 400 and a message saying so.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';

export const KUBELET_PORT = 10250;
/** How often a followed log is checked for new output. */
const FOLLOW_POLL_MS = 250;

export interface LogSource {
  /** The log file of the current run (or the previous one) of a container, or why there is none. */
  logFile(
    namespace: string,
    pod: string,
    container: string,
    previous: boolean,
  ): { file: string } | { error: string; status: number };
  /** Whether the run writing this file may still write to it. */
  writing(file: string): boolean;
}

export interface TlsFiles {
  cert: string;
  key: string;
  clientCA: string;
}

export class KubeletServer {
  private readonly servers: Server[] = [];

  constructor(
    private readonly source: LogSource,
    private readonly tls: TlsFiles,
  ) {}

  async listen(addresses: readonly string[]): Promise<void> {
    const options = {
      cert: readFileSync(this.tls.cert),
      key: readFileSync(this.tls.key),
      ca: readFileSync(this.tls.clientCA),
      requestCert: true,
      rejectUnauthorized: true,
    };
    for (const address of addresses) {
      const server = createServer(options, (req, res) =>
        this.handle(req.url ?? '/', req.method ?? 'GET', res),
      );
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(KUBELET_PORT, address, () => resolve());
      });
      this.servers.push(server);
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => {
        s.closeAllConnections();
        return new Promise<void>((resolve) => s.close(() => resolve()));
      }),
    );
  }

  private handle(rawUrl: string, method: string, res: ServerResponse): void {
    const url = new URL(rawUrl, 'https://node');
    if (url.pathname === '/healthz') {
      res.end('ok');
      return;
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (method !== 'GET' || m === null) {
      fail(res, 404, `the e2e node serves only /containerLogs and /healthz, not ${method} ${url.pathname}`);
      return;
    }
    const [, namespace = '', pod = '', container = ''] = m.map((x) => decodeURIComponent(x));
    const q = url.searchParams;
    for (const unsupported of ['timestamps', 'sinceSeconds', 'sinceTime']) {
      const v = q.get(unsupported);
      if (v !== null && v !== '' && v !== 'false') {
        fail(
          res,
          400,
          `${unsupported}: the e2e node's logs are raw container output without a time per line`,
        );
        return;
      }
    }
    const found = this.source.logFile(namespace, pod, container, q.get('previous') === 'true');
    if ('error' in found) {
      fail(res, found.status, found.error);
      return;
    }
    const tailLines = intParam(q.get('tailLines'));
    const limitBytes = intParam(q.get('limitBytes'));
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    void this.stream(found.file, q.get('follow') === 'true', tailLines, limitBytes, res);
  }

  private async stream(
    file: string,
    follow: boolean,
    tailLines: number | undefined,
    limitBytes: number | undefined,
    res: ServerResponse,
  ): Promise<void> {
    let offset = 0;
    let budget = limitBytes ?? Number.POSITIVE_INFINITY;
    if (tailLines !== undefined) offset = tailOffset(file, tailLines);
    let closed = false;
    res.on('close', () => (closed = true));
    for (;;) {
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size > offset && budget > 0) {
        const end = Math.min(size, offset + budget);
        await new Promise<void>((resolve) => {
          const chunk = createReadStream(file, { start: offset, end: end - 1 });
          chunk.on('data', (b) => res.write(b));
          chunk.on('end', resolve);
          chunk.on('error', () => resolve());
        });
        budget -= end - offset;
        offset = end;
      }
      if (closed || !follow || budget <= 0) break;
      if (!this.source.writing(file) && statSync(file).size <= offset) break;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
    res.end();
  }
}

function intParam(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The byte offset where the last `lines` lines of the file begin. */
function tailOffset(file: string, lines: number): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file);
  let end = text.length;
  if (end > 0 && text[end - 1] === 0x0a) end--;
  let seen = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (text[i] === 0x0a && ++seen === lines) return i + 1;
  }
  return lines === 0 ? text.length : 0;
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(message);
}
