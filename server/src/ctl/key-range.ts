// clientv3's key-range options as etcdctl applies them (clientv3/op.go): WithPrefix, WithFromKey,
// WithRange. Keys are byte strings.

/** clientv3's noPrefixEnd: "\0", i.e. "to the end of the keyspace". */
export const noPrefixEnd = '\x00';

/** getPrefix: the smallest key greater than every key with this prefix ("\0" if there is none). */
export function prefixEnd(key: string): string {
  for (let i = key.length - 1; i >= 0; i--) {
    const b = key.charCodeAt(i);
    if (b < 0xff) return key.slice(0, i) + String.fromCharCode(b + 1);
  }
  return noPrefixEnd;
}

export interface KeyRange {
  key: string;
  end: string;
}

/** WithPrefix: an empty key means everything ("\0" to "\0"). */
export function withPrefix(key: string): KeyRange {
  return key.length === 0 ? { key: '\x00', end: '\x00' } : { key, end: prefixEnd(key) };
}

/** WithFromKey: [key, end of keyspace); an empty key starts at "\0". */
export function withFromKey(key: string): KeyRange {
  return { key: key.length === 0 ? '\x00' : key, end: '\x00' };
}
