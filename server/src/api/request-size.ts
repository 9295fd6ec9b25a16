import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/**
 * Remembers the encoded size of each decoded request. etcd refuses writes larger than
 * --max-request-bytes with "request is too large"; measuring the bytes as they arrive costs nothing,
 * where re-encoding the request to measure it would.
 */
const sizes = new WeakMap<object, number>();

export function requestBytes(request: object): number {
  return sizes.get(request) ?? 0;
}

/** A copy of `service` whose request deserializers record each request's size. */
export function withRequestSizes<S extends ServiceDefinition>(service: S): S {
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer) => {
        const req = method.requestDeserialize(buf);
        if (typeof req === 'object' && req !== null) sizes.set(req, buf.length);
        return req;
      },
    };
  }
  return out as S;
}
