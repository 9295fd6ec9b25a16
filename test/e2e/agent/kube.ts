// The agent's Kubernetes clients, and the few request shapes it needs beyond the generated API.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  StorageV1Api,
} from '@kubernetes/client-node';

export interface Kube {
  config: KubeConfig;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  storage: StorageV1Api;
}

export function connect(kubeconfigPath: string): Kube {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    storage: config.makeApiClient(StorageV1Api),
  };
}

function httpStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export const isNotFound = (err: unknown): boolean => httpStatus(err) === 404;
export const isConflict = (err: unknown): boolean => httpStatus(err) === 409;

/** A one-line description of an API error: the Status message when the server sent one. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: string };
        if (parsed.message !== undefined) return `${err.code}: ${parsed.message}`;
      } catch {
        return `${err.code}: ${body.slice(0, 200)}`;
      }
    }
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}
