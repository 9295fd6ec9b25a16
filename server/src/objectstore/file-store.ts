// A directory as an object store (a PersistentVolume mounted into a backup Job): each object is a file,
// its metadata a sidecar `<file>.meta.json`. A put writes `<file>.part`, fsyncs it, writes the sidecar
// (atomically, the same way), then renames the file into place and fsyncs the directory, so a reader
// sees either no file or a complete one with its metadata.
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ObjectStoreError,
  type GetResult,
  type ObjectInfo,
  type ObjectMetadata,
  type ObjectStore,
} from './object-store.js';

const partSuffix = '.part';
const metaSuffix = '.meta.json';

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class FileStore implements ObjectStore {
  /** Keys are paths relative to `root` ('/' for file:/// URLs, whose keys are absolute paths minus '/'). */
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    return join(this.root, key);
  }

  url(key: string): string {
    return `file://${this.pathOf(key)}`;
  }

  async put(key: string, body: Readable, meta: () => ObjectMetadata): Promise<{ size: number }> {
    // Listen before the first await: a body that fails meanwhile must not be an unhandled 'error'.
    let bodyError: Error | undefined;
    body.on('error', (err: Error) => (bodyError ??= err));
    const path = this.pathOf(key);
    const part = `${path}${partSuffix}`;
    await mkdir(dirname(path), { recursive: true });
    let size = 0;
    try {
      body.on('data', (chunk: Buffer) => (size += chunk.length));
      await pipeline(body, createWriteStream(part, { mode: 0o600 }));
      fsyncPath(part);
    } catch (err) {
      await rm(part, { force: true });
      throw bodyError ?? err;
    }
    try {
      const metaPart = `${path}${metaSuffix}${partSuffix}`;
      await writeFile(metaPart, `${JSON.stringify(meta())}\n`, { mode: 0o600 });
      fsyncPath(metaPart);
      await rename(metaPart, `${path}${metaSuffix}`);
      await rename(part, path);
      fsyncPath(dirname(path));
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    return { size };
  }

  private async readMeta(path: string): Promise<ObjectMetadata> {
    try {
      const parsed: unknown = JSON.parse(await readFile(`${path}${metaSuffix}`, 'utf8'));
      if (parsed === null || typeof parsed !== 'object') return {};
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
      return out;
    } catch {
      return {};
    }
  }

  async get(key: string): Promise<GetResult> {
    const info = await this.head(key);
    if (info === undefined) throw new ObjectStoreError('NotFound', `${this.url(key)}: no such object`);
    return { body: createReadStream(this.pathOf(key)), size: info.size, meta: info.meta };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    try {
      const st = await stat(path);
      if (!st.isFile()) return undefined;
      return { key, size: st.size, lastModified: st.mtime, meta: await this.readMeta(path) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // Walk from the deepest directory the prefix names; keys are then filtered by the whole prefix.
    const dirKey = prefix.endsWith('/') ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const out: ObjectInfo[] = [];
    const walk = async (relDir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(this.pathOf(relDir), { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const e of entries) {
        const key = `${relDir}${e.name}`;
        if (e.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) await walk(`${key}/`);
          continue;
        }
        if (!e.isFile() || !key.startsWith(prefix)) continue;
        if (e.name.endsWith(partSuffix) || e.name.endsWith(metaSuffix)) continue;
        const info = await this.head(key);
        if (info !== undefined) out.push(info);
      }
    };
    await walk(dirKey);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    await rm(`${path}${metaSuffix}`, { force: true });
  }
}

/** The key of an absolute path in a FileStore rooted at '/'. */
export function fileKey(path: string): string {
  return path.split(sep).join('/').replace(/^\/+/, '');
}
