// Container images → this repository's entry points. There is no registry and no image store: an image
// is known by the last element of its repository name (any registry, tag or digest), and "pulling" it
// means finding its entry point in `dist/`. Every known image has all of the repository's entry points
// on its PATH (as the one Dockerfile image of issue 9 will), and differs only in its default command.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Entry point name → compiled script, relative to the repository root. */
const ENTRY_POINTS: Readonly<Record<string, string>> = {
  cairn: 'dist/server/src/cmd/cairn.js',
  cairnctl: 'dist/server/src/cmd/cairnctl.js',
  'cairn-bench': 'dist/server/src/cmd/cairn-bench.js',
  'cairn-operator': 'dist/operator/src/cmd/cairn-operator.js',
};

/** Image name → its default command (the image's ENTRYPOINT). */
const IMAGES: Readonly<Record<string, string>> = {
  cairn: 'cairn',
  cairnctl: 'cairnctl',
  'cairn-operator': 'cairn-operator',
};

/** Where the entry points appear inside every container: first on its PATH. */
export const IMAGE_BIN_DIR = '/cairn/bin';
/**
 * Where the repository appears inside every container (a real image's app directory): a fixed path, so a
 * volume a pod mounts (an emptyDir at /tmp, say) can never hide it, wherever the clone lives on the host.
 */
export const IMAGE_APP_DIR = '/opt/cairn';
export const IMAGE_PATH = `${IMAGE_BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

export interface ResolvedImage {
  /** The name the image is known by (`cairn`, `cairnctl`, `cairn-operator`). */
  name: string;
  entrypoint: string[];
  /** What containerStatuses[].imageID reports. */
  imageID: string;
}

export class ImageNotFound extends Error {}

/** `registry.example/org/cairn:v1@sha256:…` → `cairn`. */
export function imageName(reference: string): string {
  const withoutDigest = reference.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const path = withoutDigest.slice(lastSlash + 1);
  const colon = path.indexOf(':');
  return colon === -1 ? path : path.slice(0, colon);
}

export class ImageStore {
  constructor(
    private readonly repo: string,
    /** Host directory holding one wrapper script per entry point; bound at IMAGE_BIN_DIR. */
    readonly binDir: string,
  ) {}

  /** Writes the wrapper scripts: each execs node on the compiled entry point (same PID, so signals reach it). */
  async install(): Promise<void> {
    await mkdir(this.binDir, { recursive: true });
    for (const [name, script] of Object.entries(ENTRY_POINTS)) {
      const file = join(this.binDir, name);
      const target = `${IMAGE_APP_DIR}/${script}`;
      await writeFile(file, `#!/bin/sh\nexec ${process.execPath} ${target} "$@"\n`);
      await chmod(file, 0o755);
    }
  }

  /** "Pulls" an image: throws ImageNotFound with the reason a real pull would give. */
  resolve(reference: string): ResolvedImage {
    if (reference.trim() === '') throw new ImageNotFound('image reference is empty');
    const name = imageName(reference);
    const entry = IMAGES[name];
    if (entry === undefined) {
      throw new ImageNotFound(
        `image "${reference}" not found: the e2e node knows only ${Object.keys(IMAGES).join(', ')} ` +
          `(any registry and tag), which run this repository's entry points`,
      );
    }
    const script = ENTRY_POINTS[entry];
    if (script === undefined || !existsSync(join(this.repo, script))) {
      throw new ImageNotFound(`image "${reference}": entry point ${entry} is not built (run npm run build)`);
    }
    return { name, entrypoint: [entry], imageID: `cairn-e2e://${name}@${this.repo}` };
  }
}
