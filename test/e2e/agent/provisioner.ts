// A small dynamic provisioner, the e2e environment's storage: the default StorageClass `standard`
// (WaitForFirstConsumer, like kind's local-path) and, for every claim of that class once the scheduler
// has picked its node, a PV with a directory of its own under the run dir, pinned to that node. The PV
// controller in kube-controller-manager binds them. When a claim is deleted and its PV is Released,
// the directory and the PV are deleted (reclaimPolicy Delete). The class allows expansion: a claim that
// asks for more gets it at once, the way an external resizer for a volume with no node-side step does
// (the directory has no size of its own, so growing is recording the new capacity, on the PV, then on
// the claim's status).
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { PatchStrategy, makeInformer, setHeaderOptions } from '@kubernetes/client-node';
// The client's own Kubernetes quantity parser; the package exports no subpath map.
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, isConflict, isNotFound, type Kube } from './kube.js';
import { log } from './log.js';

export const PROVISIONER = 'cairn.dev/e2e-hostpath';
export const STORAGE_CLASS = 'standard';
const INFORMER_RESTART_MS = 1_000;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function bytes(quantity: string): bigint {
  const v = quantityToScalar(quantity);
  return typeof v === 'bigint' ? v : BigInt(Math.ceil(v));
}

export class Provisioner {
  private readonly informers: { stop(): Promise<void> }[] = [];
  /** One operation at a time: a claim seen twice is never provisioned twice. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly kube: Kube,
    private readonly volumesDir: string,
  ) {}

  async start(): Promise<void> {
    await this.ensureStorageClass();
    const claims = makeInformer<V1PersistentVolumeClaim>(
      this.kube.config,
      '/api/v1/persistentvolumeclaims',
      () => this.kube.core.listPersistentVolumeClaimForAllNamespaces(),
    );
    const volumes = makeInformer<V1PersistentVolume>(this.kube.config, '/api/v1/persistentvolumes', () =>
      this.kube.core.listPersistentVolume(),
    );
    const onClaim = (c: V1PersistentVolumeClaim): void =>
      this.enqueue(async () => {
        await this.maybeProvision(c);
        await this.maybeResize(c);
      });
    const onVolume = (v: V1PersistentVolume): void => this.enqueue(() => this.maybeDelete(v));
    claims.on('add', onClaim);
    claims.on('update', onClaim);
    volumes.on('add', onVolume);
    volumes.on('update', onVolume);
    for (const informer of [claims, volumes]) {
      informer.on('error', (err: unknown) => {
        log('provisioner', `watch ended (${describeError(err)}), restarting`);
        setTimeout(() => void informer.start(), INFORMER_RESTART_MS);
      });
      await informer.start();
      this.informers.push(informer);
    }
  }

  async stop(): Promise<void> {
    for (const informer of this.informers) await informer.stop();
    await this.chain;
  }

  private enqueue(op: () => Promise<void>): void {
    this.chain = this.chain.then(op).catch((err: unknown) => log('provisioner', describeError(err)));
  }

  private async ensureStorageClass(): Promise<void> {
    try {
      await this.kube.storage.createStorageClass({
        body: {
          metadata: {
            name: STORAGE_CLASS,
            annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
          },
          provisioner: PROVISIONER,
          reclaimPolicy: 'Delete',
          volumeBindingMode: 'WaitForFirstConsumer',
          allowVolumeExpansion: true,
        },
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  private async maybeProvision(claim: V1PersistentVolumeClaim): Promise<void> {
    const annotations = claim.metadata?.annotations ?? {};
    const ours =
      annotations['volume.kubernetes.io/storage-provisioner'] === PROVISIONER ||
      annotations['volume.beta.kubernetes.io/storage-provisioner'] === PROVISIONER;
    const node = annotations['volume.kubernetes.io/selected-node'];
    if (!ours || node === undefined || claim.status?.phase !== 'Pending') return;
    if ((claim.spec?.volumeName ?? '') !== '' || claim.metadata?.deletionTimestamp !== undefined) return;
    const uid = claim.metadata?.uid ?? '';
    const name = `pvc-${uid}`;
    const path = join(this.volumesDir, name);
    await mkdir(path, { recursive: true });
    // Any user the pod runs as may write its volume, as with hostPath provisioners.
    await chmod(path, 0o777);
    const size = claim.spec?.resources?.requests?.['storage'] ?? '1Gi';
    try {
      await this.kube.core.createPersistentVolume({
        body: {
          metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
          spec: {
            capacity: { storage: size },
            accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: claim.spec?.storageClassName ?? STORAGE_CLASS,
            volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
            hostPath: { path, type: 'DirectoryOrCreate' },
            claimRef: {
              apiVersion: 'v1',
              kind: 'PersistentVolumeClaim',
              namespace: claim.metadata?.namespace,
              name: claim.metadata?.name,
              uid,
            },
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
                ],
              },
            },
          },
        },
      });
      log(
        'provisioner',
        `provisioned ${name} (${size}) on ${node} for ${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`,
      );
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  private async maybeResize(claim: V1PersistentVolumeClaim): Promise<void> {
    const want = claim.spec?.resources?.requests?.['storage'];
    const have = claim.status?.capacity?.['storage'];
    const volumeName = claim.spec?.volumeName ?? '';
    if (claim.status?.phase !== 'Bound' || want === undefined || have === undefined || volumeName === '')
      return;
    if (bytes(want) <= bytes(have)) return;
    const volume = await this.kube.core.readPersistentVolume({ name: volumeName });
    if (volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) return;
    await this.kube.core.patchPersistentVolume(
      { name: volumeName, body: { spec: { capacity: { storage: want } } } },
      mergePatch,
    );
    const namespace = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    await this.kube.core.patchNamespacedPersistentVolumeClaimStatus(
      {
        namespace,
        name,
        body: { status: { capacity: { storage: want }, allocatedResources: { storage: want } } },
      },
      mergePatch,
    );
    log('provisioner', `expanded ${volumeName} for ${namespace}/${name}: ${have} → ${want}`);
  }

  private async maybeDelete(volume: V1PersistentVolume): Promise<void> {
    if (volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] !== PROVISIONER) return;
    if (volume.status?.phase !== 'Released' || volume.spec?.persistentVolumeReclaimPolicy !== 'Delete')
      return;
    const name = volume.metadata.name ?? '';
    const path = volume.spec.hostPath?.path;
    // Only ever a directory this provisioner made.
    if (path !== undefined && path.startsWith(this.volumesDir + '/'))
      await rm(path, { recursive: true, force: true });
    try {
      await this.kube.core.deletePersistentVolume({ name });
      log('provisioner', `deleted ${name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
