// A real S3-protocol server for the backup tests: the npm `s3rver` (in this process, on 127.0.0.1, a
// random port, a temp directory), behind a small HTTP front that
// - checks every request's AWS Signature V4 against the known secret key (s3rver 3.7 checks only that
//   the access key id exists and skips V4 signature verification), answering 403
//   SignatureDoesNotMatch as S3 does, so a wrong secret key fails as it would against S3;
// - records each request's method, path, query and x-amz-security-token, so tests can see multipart
//   uploads (POST ?uploads, PUT ?partNumber=N) and that a session token reached the request.
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The part of s3rver 3.7's API used here (the package ships no type declarations). */
interface S3rverApp {
  configureBuckets(): Promise<unknown>;
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}
interface S3rverOptions {
  directory: string;
  silent: boolean;
  configureBuckets: { name: string; configs: string[] }[];
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (o: S3rverOptions) => S3rverApp;

/** s3rver's built-in account. */
export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly securityToken: string | undefined;
  readonly signatureOk: boolean;
}

export interface S3Server {
  /** http://<host>:<port> — what --s3-endpoint takes. */
  readonly endpoint: string;
  /** s3rver's storage directory. */
  readonly dir: string;
  readonly requests: RecordedRequest[];
  /** The file s3rver keeps an object's bytes in. */
  objectFile(bucket: string, key: string): string;
  stop(): Promise<void>;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 3986 encoding, as SigV4's canonical query string wants it. */
function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Whether the request's Authorization header is a valid SigV4 signature made with `secret`. */
export function verifySigV4(req: IncomingMessage, secret: string): boolean {
  const auth = req.headers['authorization'];
  if (typeof auth !== 'string' || !auth.startsWith('AWS4-HMAC-SHA256 ')) return false;
  const parts = new Map(
    auth
      .slice('AWS4-HMAC-SHA256 '.length)
      .split(',')
      .map((p) => {
        const [k, ...v] = p.trim().split('=');
        return [k ?? '', v.join('=')] as const;
      }),
  );
  const credential = parts.get('Credential')?.split('/') ?? [];
  const signedHeaders = parts.get('SignedHeaders') ?? '';
  const signature = parts.get('Signature') ?? '';
  const [, date, region, service] = credential;
  const amzDate = req.headers['x-amz-date'];
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (date === undefined || region === undefined || service === undefined) return false;
  if (typeof amzDate !== 'string' || typeof payloadHash !== 'string') return false;
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q + 1);
  const canonicalQuery = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const k = decodeURIComponent(eq < 0 ? p : p.slice(0, eq));
      const v = decodeURIComponent(eq < 0 ? '' : p.slice(eq + 1));
      return [encodeRfc3986(k), encodeRfc3986(v)] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((h) => {
      const v = req.headers[h];
      const text = Array.isArray(v) ? v.join(',') : (v ?? '');
      return `${h}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    req.method ?? 'GET',
    path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, stringToSign).toString('hex') === signature;
}

function signatureMismatch(res: ServerResponse): void {
  res.writeHead(403, { 'content-type': 'application/xml' });
  res.end(
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
      '<Message>The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.</Message></Error>',
  );
}

/**
 * Starts s3rver with `buckets` created, behind the signature-checking front, on 127.0.0.1 — or on `host`,
 * an address of a network namespace the test made (the e2e suite uses the bridge its pods reach).
 */
export async function startS3Server(
  buckets: readonly string[],
  opts: { host?: string } = {},
): Promise<S3Server> {
  const host = opts.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'cairn-s3rver-'));
  const s3rver = new S3rver({
    directory: dir,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  await s3rver.configureBuckets();
  const handler = s3rver.callback();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const token = req.headers['x-amz-security-token'];
    const signatureOk = verifySigV4(req, S3_SECRET_ACCESS_KEY);
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      securityToken: typeof token === 'string' ? token : undefined,
      signatureOk,
    });
    // An unknown access key id is s3rver's own InvalidAccessKeyId; a known one must sign correctly.
    const auth = req.headers['authorization'] ?? '';
    if (auth.includes(`Credential=${S3_ACCESS_KEY_ID}/`) && !signatureOk) {
      req.resume();
      signatureMismatch(res);
      return;
    }
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    dir,
    requests,
    objectFile: (bucket, key) => join(dir, bucket, `${key}._S3rver_object`),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
