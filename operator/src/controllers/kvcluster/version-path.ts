// Which version changes a rolling upgrade may make (etcd's rule, which etcd-io/etcd-operator enforces
// too): patch releases freely, one minor version forward at a time, no downgrade across minors, never a
// major change. A tag that is not a version (a custom image) is not checked.
export interface VersionCheck {
  allowed: boolean;
  reason?: string;
}

function parse(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function checkVersionPath(from: string, to: string): VersionCheck {
  const a = parse(from);
  const b = parse(to);
  if (a === undefined || b === undefined) return { allowed: true };
  if (a[0] !== b[0]) return { allowed: false, reason: `${from} → ${to} changes the major version` };
  if (b[1] < a[1]) return { allowed: false, reason: `${from} → ${to} is a downgrade across minor versions` };
  if (b[1] > a[1] + 1) {
    return {
      allowed: false,
      reason: `${from} → ${to} skips a minor version: upgrade to ${a[0]}.${a[1] + 1} first`,
    };
  }
  return { allowed: true };
}
