// From a backup URL and the --s3-* flags to a store and the key within it.
import { FileStore, fileKey } from './file-store.js';
import type { ObjectStore } from './object-store.js';
import { ObjectURLError, parseObjectURL, redactURL } from './object-url.js';
import { S3Store } from './s3-store.js';

export interface S3Flags {
  /** --s3-endpoint ('' = AWS). */
  readonly endpoint: string;
  /** --s3-region. */
  readonly region: string;
  /** --s3-force-path-style. */
  readonly forcePathStyle: boolean;
}

export interface OpenedStore {
  readonly store: ObjectStore;
  /** The key (or, for list, the key prefix) the URL names. */
  readonly key: string;
  /** Closes connections the store holds (the SDK keeps sockets alive). */
  close(): void;
}

/** Checks --s3-endpoint: http(s), a host, and no user info (credentials come from the environment). */
export function checkEndpoint(endpoint: string): void {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new ObjectURLError(`invalid --s3-endpoint ${JSON.stringify(redactURL(endpoint))}`);
  }
  if (u.username !== '' || u.password !== '') {
    throw new ObjectURLError(
      '--s3-endpoint must not contain credentials; use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ObjectURLError(
      `invalid --s3-endpoint ${JSON.stringify(endpoint)}: expected http:// or https://`,
    );
  }
}

export function openStore(
  url: string,
  s3: S3Flags,
  prefix = false,
  env: Readonly<Record<string, string | undefined>> = process.env,
): OpenedStore {
  const u = parseObjectURL(url, prefix);
  if (u.kind === 'file') {
    return { store: new FileStore('/'), key: fileKey(u.path), close: () => undefined };
  }
  if (s3.endpoint !== '') checkEndpoint(s3.endpoint);
  const store = new S3Store({
    bucket: u.bucket,
    ...(s3.endpoint !== '' ? { endpoint: s3.endpoint } : {}),
    region: s3.region === '' ? 'us-east-1' : s3.region,
    forcePathStyle: s3.forcePathStyle,
    env,
  });
  return { store, key: u.key, close: () => store.close() };
}
