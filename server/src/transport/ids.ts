import { TransportError } from './errors.js';

/**
 * Member and cluster ids travel in headers as lower-case hex without padding, like etcd's
 * types.ID.String(), so that a log line here and a log line from etcd read the same.
 */
export function idHex(id: bigint): string {
  return id.toString(16);
}

const HEX_ID = /^[0-9a-fA-F]{1,16}$/;

/** Parses a hex id from a header; undefined when absent or not a 64-bit hex number. */
export function parseIdHex(value: string | string[] | undefined): bigint | undefined {
  if (typeof value !== 'string' || !HEX_ID.test(value)) return undefined;
  return BigInt(`0x${value}`);
}

/** Peer URLs are cleartext h2c for now (http://host:port); TLS comes later. */
export function validatePeerUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw new TransportError('ErrInvalidUrl', 'a peer needs at least one URL');
  return urls.map((u) => {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new TransportError('ErrInvalidUrl', `invalid peer URL ${JSON.stringify(u)}`);
    }
    if (parsed.protocol !== 'http:' || parsed.hostname === '' || parsed.port === '') {
      throw new TransportError('ErrInvalidUrl', `peer URL ${JSON.stringify(u)} must be http://host:port`);
    }
    return parsed.origin;
  });
}
