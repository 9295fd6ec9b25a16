// The variables a --defrag-rule sees for one member, from its Status (names from ahrtr/etcd-defrag, plus
// dbSizeFree and dbQuotaUsage which its later versions added).

/** etcd's default --quota-backend-bytes (2 GiB), what a member that reports no quota is assumed to have. */
export const QUOTA_BACKEND_BYTES_DEFAULT = 2 * 1024 * 1024 * 1024;

export interface DefragRuleVars {
  /** Status.dbSize: the database file's size in bytes. */
  readonly dbSize: number;
  /** Status.dbSizeInUse: bytes of pages holding live data. */
  readonly dbSizeInUse: number;
  /** dbSize - dbSizeInUse: what a defragmentation would give back, about. */
  readonly dbSizeFree: number;
  /** Status.dbSizeQuota (etcd 3.6's field) when non-zero, else --quota-backend-bytes. */
  readonly dbQuota: number;
  /** dbSize / dbQuota. */
  readonly dbQuotaUsage: number;
}

/** The member's quota: what it reports (etcd ≥ 3.6, cairn), else what the operator says it was given. */
export function quotaOf(dbSizeQuota: number, quotaFallback: number): number {
  return dbSizeQuota > 0 ? dbSizeQuota : quotaFallback;
}

export function ruleVars(
  s: { dbSize: number; dbSizeInUse: number; dbSizeQuota: number },
  quotaFallback: number,
): DefragRuleVars {
  const dbQuota = quotaOf(s.dbSizeQuota, quotaFallback);
  return {
    dbSize: s.dbSize,
    dbSizeInUse: s.dbSizeInUse,
    dbSizeFree: s.dbSize - s.dbSizeInUse,
    dbQuota,
    dbQuotaUsage: s.dbSize / dbQuota,
  };
}

/** `dbSize=… dbSizeInUse=… …`: why a rule said no, for the Skipped line. */
export function ruleVarsText(v: DefragRuleVars): string {
  return (
    `dbSize=${v.dbSize} dbSizeInUse=${v.dbSizeInUse} dbSizeFree=${v.dbSizeFree} dbQuota=${v.dbQuota} ` +
    `dbQuotaUsage=${Math.round(v.dbQuotaUsage * 10000) / 10000}`
  );
}
