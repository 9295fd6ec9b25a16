// The KVCluster CustomResourceDefinition, built from the schemas in kvcluster.ts. `npm run gen` writes it
// to crds/cairn.dev_kvclusters.yaml and `npm test` fails if the committed file differs (hack/gen-crds.mjs).
import {
  API_VERSION,
  GROUP,
  KIND,
  KVClusterSpecSchema,
  KVClusterStatusSchema,
  PLURAL,
  VERSION,
} from './kvcluster.js';

/** A schema as plain JSON: what the API server gets (TypeBox's own markers are not enumerable). */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

export function kvClusterCRD(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: KIND.toLowerCase(),
        shortNames: ['kvc'],
        categories: ['cairn'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `A cairn cluster run by the cairn operator (${API_VERSION}).`,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'The API version, cairn.dev/v1alpha1.' },
                kind: { type: 'string', description: 'KVCluster.' },
                metadata: { type: 'object' },
                spec: plain(KVClusterSpecSchema),
                status: plain(KVClusterStatusSchema),
              },
            },
          },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            {
              name: 'Replicas',
              type: 'integer',
              jsonPath: '.spec.replicas',
              description: 'Desired voting members.',
            },
            {
              name: 'Ready',
              type: 'integer',
              jsonPath: '.status.readyReplicas',
              description: 'Healthy voting members.',
            },
            {
              name: 'Version',
              type: 'string',
              jsonPath: '.status.currentVersion',
              description: 'Version every member runs.',
            },
            {
              name: 'Leader',
              type: 'string',
              jsonPath: '.status.leader',
              description: 'The leading member.',
            },
            {
              name: 'Phase',
              type: 'string',
              jsonPath: '.status.phase',
              description: 'What the cluster is doing.',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

/** Every CRD of the operator, by file name under crds/. */
export function allCRDs(): Record<string, Record<string, unknown>> {
  return { [`${GROUP}_${PLURAL}.yaml`]: kvClusterCRD() };
}
