// Backup destinations as URLs: `s3://<bucket>/<key>` (the bucket on the store given by --s3-endpoint, or
// AWS) and `file:///<absolute path>` (a directory, e.g. a mounted volume). Anything else is refused with
// a message that names the accepted forms. A URL is never echoed with user info (`user:secret@`) in it.
import { fileURLToPath } from 'node:url';

export type ObjectURL =
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'file'; readonly path: string };

export class ObjectURLError extends Error {
  override readonly name = 'ObjectURLError';
}

/** S3's bucket naming rules (3–63 characters, lower-case letters, digits, dots and hyphens). */
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `scheme://user:secret@rest` → `scheme://rest`: for messages about a URL. */
export function redactURL(url: string): string {
  return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@]*@/, '$1');
}

const accepted = 'expected s3://<bucket>/<key> or file:///<absolute path>';

/**
 * Parses a backup URL. `prefix` allows what names a group of objects rather than one (an empty or
 * '/'-terminated key, a directory): `backup list` takes those.
 */
export function parseObjectURL(url: string, prefix = false): ObjectURL {
  const shown = JSON.stringify(redactURL(url));
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    if (bucket.includes('@'))
      throw new ObjectURLError(`backup URL ${shown}: credentials do not belong in a URL`);
    if (!bucketPattern.test(bucket)) throw new ObjectURLError(`backup URL ${shown}: invalid bucket name`);
    if (!prefix && (key === '' || key.endsWith('/'))) {
      throw new ObjectURLError(`backup URL ${shown} names no object: ${accepted}`);
    }
    return { kind: 's3', bucket, key };
  }
  if (url.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch {
      throw new ObjectURLError(`backup URL ${shown}: ${accepted} (no host, an absolute path)`);
    }
    if (!prefix && path.endsWith('/')) throw new ObjectURLError(`backup URL ${shown} names no file`);
    return { kind: 'file', path };
  }
  throw new ObjectURLError(`unsupported backup URL ${shown}: ${accepted}`);
}

export function formatObjectURL(u: ObjectURL): string {
  return u.kind === 's3' ? `s3://${u.bucket}/${u.key}` : `file://${u.path}`;
}
