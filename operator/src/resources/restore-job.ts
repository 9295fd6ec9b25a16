// The Job that verifies a KVRestore's snapshot before anything is touched: `cairnctl backup fetch` reads
// the whole object, checks its SHA-256 (the expected one, else the object's metadata) and the snapshot's
// own trailer, and writes the result (URL, size, SHA-256, revision) or the reason it failed to the
// termination log. The fetched copy goes at once: only the verdict is wanted. A corrupted or unreadable
// object therefore fails the KVRestore while the cluster it names is still untouched.
import type { V1Job } from '@kubernetes/client-node';
import { API_VERSION, RESTORE_KIND, type KVRestore } from '../api/v1alpha1/index.js';
import { credentialsEnv, jobName, snapshotJob } from './backup-job.js';
import { LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, OPERATOR_NAME } from './names.js';
import type { RestorePlan } from './restore-step.js';

/** On the verify Job (and its pods) and on a KVCluster a KVRestore created: the KVRestore's name. */
export const LABEL_RESTORE = 'cairn.dev/restore';
/** On a KVCluster a KVRestore created: that KVRestore's uid (a later one of the same name is another). */
export const ANNOTATION_RESTORE_UID = 'cairn.dev/restore-uid';
/**
 * On a KVCluster: the KVRestore (by name) whose verified snapshot is to replace the cluster's data. Set by
 * the KVRestore controller once the object is verified; removed by the KVCluster reconciler once done.
 */
export const ANNOTATION_RESTORE_IN_PLACE = 'cairn.dev/restore-in-place';

/** A failed fetch is retried once: a network error may pass, a checksum mismatch will not. */
const VERIFY_BACKOFF_LIMIT = 1;
const SNAPSHOT_FILE = '/tmp/snapshot.db';
// The URL, then the flags; the copy is removed whatever the outcome, the exit code kept.
const SCRIPT = `cairnctl backup fetch "$0" ${SNAPSHOT_FILE} --result-file=/dev/termination-log "$@"
rc=$?; rm -f ${SNAPSHOT_FILE}; exit $rc`;

export function verifyJob(
  r: KVRestore,
  clusterName: string,
  plan: Pick<RestorePlan, 'objectURL' | 'sha256' | 's3Args' | 'credentialsSecret' | 'claimName'>,
  image: string,
): V1Job {
  const labels = {
    [LABEL_NAME]: 'cairn-restore',
    [LABEL_INSTANCE]: clusterName,
    [LABEL_MANAGED_BY]: OPERATOR_NAME,
    [LABEL_RESTORE]: r.metadata.name,
  };
  return snapshotJob(
    {
      name: jobName(r.metadata.name, 'verify'),
      namespace: r.metadata.namespace,
      labels,
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: RESTORE_KIND,
          name: r.metadata.name,
          uid: r.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    image,
    {
      name: 'verify',
      command: ['sh', '-c', SCRIPT, plan.objectURL],
      args: [...(plan.sha256 !== undefined ? [`--sha256=${plan.sha256}`] : []), ...(plan.s3Args ?? [])],
      env: credentialsEnv(plan.credentialsSecret),
    },
    VERIFY_BACKOFF_LIMIT,
    plan.claimName,
  );
}
