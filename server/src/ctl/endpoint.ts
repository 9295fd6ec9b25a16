// Endpoints as clientv3 (3.4) reads them: "host:port", "http://host:port", "unix://path". Its
// ParseEndpoint strips the scheme because gRPC dials by host; any other scheme dials nothing, so calls
// on it wait until their deadline.

export interface ParsedEndpoint {
  /** What the user gave (byte string), as etcdctl prints it (`endpoint status`, health lines). */
  readonly raw: string;
  /** The host (or socket path) the Go client dials; the last part of the client's gRPC target. */
  readonly host: string;
  readonly scheme: string;
  /** A grpc-js target, or undefined when Go would not be able to dial it either. */
  readonly grpcTarget: string | undefined;
}

interface GoUrl {
  scheme: string;
  host: string;
  path: string;
}

/** The parts of Go's url.Parse that matter here (kept by hand: WHATWG URL drops default ports). */
function parseUrl(raw: string): GoUrl | undefined {
  const sep = raw.indexOf('://');
  const scheme = raw.slice(0, sep);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) return undefined;
  const rest = raw.slice(sep + 3);
  const authEnd = rest.search(/[/?#]/);
  const authority = authEnd < 0 ? rest : rest.slice(0, authEnd);
  const afterAuth = authEnd < 0 ? '' : rest.slice(authEnd);
  const pathEnd = afterAuth.search(/[?#]/);
  const path = pathEnd < 0 ? afterAuth : afterAuth.slice(0, pathEnd);
  const at = authority.lastIndexOf('@');
  return { scheme: scheme.toLowerCase(), host: at < 0 ? authority : authority.slice(at + 1), path };
}

export function parseEndpoint(raw: string): ParsedEndpoint {
  const url = raw.includes('://') ? parseUrl(raw) : undefined;
  if (url === undefined) return { raw, host: raw, scheme: '', grpcTarget: raw };
  switch (url.scheme) {
    case 'http':
    case 'https':
      return { raw, host: url.host, scheme: url.scheme, grpcTarget: url.host };
    case 'unix':
    case 'unixs': {
      const path = url.host + url.path;
      return { raw, host: path, scheme: url.scheme, grpcTarget: `unix:${path}` };
    }
    default:
      return { raw, host: '', scheme: url.scheme, grpcTarget: undefined };
  }
}
