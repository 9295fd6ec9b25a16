// The restore init step of a cluster created from a snapshot (spec.bootstrap.restore): before the server
// starts, `cairnctl backup restore` fetches the snapshot, checks its SHA-256, and builds the member's data
// dir with the whole membership and the cluster's own token. It acts only while the bootstrap ConfigMap
// has `restore-url` (removed once the cluster runs), and cairnctl skips a data dir already restored from
// the same snapshot with the same token, so a restarted pod is harmless and a member replaced later joins
// normally. An in-place restore (a KVRestore) gives a token of its own, so the rebuilt members form a new
// cluster with a new id, and --replace, so the old data dirs are swapped for the restored ones.
import type { V1Container, V1EnvVar, V1Volume } from '@kubernetes/client-node';
import type { KVClusterStatus } from '../api/v1alpha1/index.js';
import { credentialsEnv, destinationVolumes } from './backup-job.js';
import { KEY_RESTORE_URL } from './bootstrap-config.js';
import { bootstrapConfigMapName, DATA_DIR, memberHost, PEER_PORT, type ClusterRef } from './names.js';
import { ENV_INITIAL_CLUSTER, ENV_POD_NAME } from './server-flags.js';

export type RestorePlan = NonNullable<KVClusterStatus['restore']>;

const ENV_RESTORE_URL = 'CAIRN_RESTORE_URL';
// No restore requested: nothing to do. Otherwise cairnctl, with the flags as arguments.
const SCRIPT = `if [ -z "$${ENV_RESTORE_URL}" ]; then echo "no restore requested"; exit 0; fi
exec cairnctl backup restore "$${ENV_RESTORE_URL}" "$@"`;

/** The token of a cluster restored in place by the KVRestore with this uid: new for every restore. */
export function inPlaceToken(clusterName: string, restoreUID: string): string {
  return `${clusterName}-restore-${restoreUID.slice(0, 8)}`;
}

/** `token`: the cluster's own, used unless the plan brings one (an in-place restore). */
export function restoreStep(
  plan: RestorePlan,
  c: ClusterRef,
  token: string,
  image: string,
  env: V1EnvVar[],
): { container: V1Container; volumes: V1Volume[] } {
  const { volumes, mounts } = destinationVolumes(plan.claimName);
  return {
    volumes,
    container: {
      name: 'restore',
      image,
      command: ['sh', '-c', SCRIPT, 'restore'],
      args: [
        `--data-dir=${DATA_DIR}`,
        `--name=$(${ENV_POD_NAME})`,
        `--initial-cluster=$(${ENV_INITIAL_CLUSTER})`,
        `--initial-cluster-token=${plan.token ?? token}`,
        `--initial-advertise-peer-urls=http://${memberHost(c, `$(${ENV_POD_NAME})`)}:${PEER_PORT}`,
        ...(plan.sha256 !== undefined ? [`--sha256=${plan.sha256}`] : []),
        ...(plan.requestedBy !== undefined ? ['--replace'] : []),
        ...(plan.s3Args ?? []),
      ],
      env: [
        ...env,
        {
          name: ENV_RESTORE_URL,
          valueFrom: {
            configMapKeyRef: { name: bootstrapConfigMapName(c), key: KEY_RESTORE_URL, optional: true },
          },
        },
        ...credentialsEnv(plan.credentialsSecret),
      ],
      volumeMounts: mounts.map((m) => ({ ...m, readOnly: true })),
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    },
  };
}
