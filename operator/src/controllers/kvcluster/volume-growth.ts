// Growing the members' volumes when spec.storage.size grows. A StatefulSet's claim templates are
// immutable, so the template keeps the size it was created with and the operator asks each existing
// claim for the new size itself (the way Kubernetes expands a volume: a larger request on the claim,
// which the storage class's resizer then satisfies). A claim made later from the old template is grown
// on the next pass. Shrinking is refused by the CRD's validation; a custom volumeClaimTemplate is the
// user's to manage.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
// The client's own Kubernetes quantity parser ("2Gi", "1500M", "1e9"); the package exports no subpath map.
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import type { ResolvedSpec } from '../../api/v1alpha1/index.js';

export interface Growth {
  claim: string;
  from: string;
  to: string;
}

function bytes(quantity: string): bigint {
  const v = quantityToScalar(quantity);
  return typeof v === 'bigint' ? v : BigInt(Math.ceil(v));
}

/** The claims whose requested size is below spec.storage.size. */
export function claimsToGrow(spec: ResolvedSpec, claims: readonly V1PersistentVolumeClaim[]): Growth[] {
  if (spec.storage.volumeClaimTemplate !== undefined) return [];
  const to = String(spec.storage.size);
  const want = bytes(to);
  const out: Growth[] = [];
  for (const c of claims) {
    const from = c.spec?.resources?.requests?.['storage'];
    if (from === undefined || c.metadata?.deletionTimestamp !== undefined) continue;
    if (bytes(from) < want) out.push({ claim: c.metadata?.name ?? '', from, to });
  }
  return out;
}
