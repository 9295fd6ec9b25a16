// The client-side URL check of `member add|update` (clientv3 3.4 calls etcd's types.NewURLs on the peer URLs
// before sending, "fail-fast before panic in rafthttp"), with the error texts etcdctl prints:
//   parse "127.0.0.1:2380": first path segment in URL cannot contain colon     (Go's net/url.Parse)
//   URL scheme must be http, https, unix, or unixs: ftp://h:1
//   URL address does not have the form "host:port": http://h
//   URL must not contain a path: http://h:1/x
// Only the parts of Go's url.Parse that can fail are reproduced: control bytes, a scheme starting with
// ':', a colon in the first segment of a relative URL, the authority's host (brackets, port digits,
// characters, % escapes) and % escapes in the path and fragment. All strings are byte strings.
import { goQuote } from './go-quote.js';

interface ParsedUrl {
  scheme: string;
  host: string;
  path: string;
}

class UrlError extends Error {}

/** strconv.Quote-style name of an invalid escape (url.EscapeError) or host character (url.InvalidHostError). */
const escapeError = (s: string): UrlError => new UrlError(`invalid URL escape ${goQuote(s)}`);
const hostCharError = (s: string): UrlError => new UrlError(`invalid character ${goQuote(s)} in host name`);

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/** net/url's shouldEscape for the host (and zone) mode: what may appear unescaped in a host. */
function hostCharAllowed(c: string): boolean {
  return /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/.test(c);
}

/** net/url's unescape: % escapes must be complete; in a host, only %25 below 0x80 and no odd characters. */
function unescape(s: string, host: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
        throw escapeError(s.slice(i, i + 3));
      }
      if (host && parseInt(s[i + 1]!, 16) < 8 && s.slice(i, i + 3) !== '%25') {
        throw escapeError(s.slice(i, i + 3));
      }
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      if (host && c.charCodeAt(0) < 0x80 && !hostCharAllowed(c)) throw hostCharError(c);
      out += c;
    }
  }
  return out;
}

/** ":digits" or nothing. */
const validOptionalPort = (p: string): boolean => p === '' || /^:[0-9]*$/.test(p);

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) throw new UrlError("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) throw new UrlError(`invalid port ${goQuote(colonPort)} after host`);
  } else {
    const i = host.lastIndexOf(':');
    if (i >= 0 && !validOptionalPort(host.slice(i))) {
      throw new UrlError(`invalid port ${goQuote(host.slice(i))} after host`);
    }
  }
  return unescape(host, true);
}

/** The scheme and the rest, as net/url's getScheme splits them. */
function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new UrlError('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

function parse(raw: string): ParsedUrl {
  // eslint-disable-next-line no-control-regex -- Go's url.Parse refuses exactly these control bytes
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new UrlError('net/url: invalid control character in URL');
  if (raw === '*') return { scheme: '', host: '', path: '*' };
  const [rawScheme, afterScheme] = getScheme(raw);
  const scheme = rawScheme.toLowerCase();
  let rest = afterScheme;
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf('?');
    if (q >= 0) rest = rest.slice(0, q);
  }
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, host: '', path: '' }; // opaque
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) {
      throw new UrlError('first path segment in URL cannot contain colon');
    }
  }
  let host = '';
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) [authority, rest] = [authority.slice(0, slash), authority.slice(slash)];
    const at = authority.lastIndexOf('@');
    host = parseHost(at < 0 ? authority : authority.slice(at + 1));
    if (at >= 0 && !/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) {
      throw new UrlError('net/url: invalid userinfo');
    }
  }
  return { scheme, host, path: unescape(rest, false) };
}

/** net.SplitHostPort succeeds. */
function splitsHostPort(hostport: string): boolean {
  const i = hostport.lastIndexOf(':');
  if (i < 0) return false;
  let j = 0;
  let k = 0;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0 || end + 1 !== i) return false;
    j = 1;
    k = end + 1;
  } else if (hostport.slice(0, i).includes(':')) {
    return false;
  }
  return !hostport.slice(j).includes('[') && !hostport.slice(k).includes(']');
}

/** Go's strings.TrimSpace on a byte string: ASCII white space and UTF-8 encoded Unicode spaces. */
function trimSpace(s: string): string {
  const space =
    '[\\t\\n\\v\\f\\r ]|\\xc2[\\x85\\xa0]|\\xe1\\x9a\\x80|\\xe2\\x80[\\x80-\\x8a\\xa8\\xa9\\xaf]|\\xe2\\x81\\x9f|\\xe3\\x80\\x80';
  return s.replace(new RegExp(`^(?:${space})+`), '').replace(new RegExp(`(?:${space})+$`), '');
}

/**
 * types.NewURLs' verdict on a list of URLs: undefined when all are acceptable peer URLs, otherwise the error
 * text etcdctl prints (the first failing URL's).
 */
export function newUrlsError(urls: readonly string[]): string | undefined {
  if (urls.length === 0) return 'no valid URLs given';
  for (const raw of urls) {
    const u = trimSpace(raw);
    const hash = u.indexOf('#');
    const beforeFragment = hash < 0 ? u : u.slice(0, hash);
    let url: ParsedUrl;
    try {
      url = parse(beforeFragment);
      if (hash >= 0) {
        try {
          unescape(u.slice(hash + 1), false);
        } catch (err) {
          if (err instanceof UrlError) return `parse ${goQuote(u)}: ${err.message}`;
          throw err;
        }
      }
    } catch (err) {
      if (err instanceof UrlError) return `parse ${goQuote(beforeFragment)}: ${err.message}`;
      throw err;
    }
    if (!['http', 'https', 'unix', 'unixs'].includes(url.scheme)) {
      return `URL scheme must be http, https, unix, or unixs: ${u}`;
    }
    if (!splitsHostPort(url.host)) return `URL address does not have the form "host:port": ${u}`;
    if (url.path !== '') return `URL must not contain a path: ${u}`;
  }
  return undefined;
}
