import { readFileSync } from 'node:fs';

/**
 * The etcd API version Cairn reports in Status.version. Clients gate features on it (kube-apiserver
 * enables RequestWatchProgress only for >= 3.4.31 / 3.5.13), so it names the etcd release whose API we
 * follow rather than Cairn's own version.
 */
export const ETCD_VERSION_EMULATED = '3.6.0';

/** Cairn's own version, from package.json. */
export const CAIRN_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
