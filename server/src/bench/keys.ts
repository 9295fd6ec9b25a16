// Keys and values of the put benchmark, made as etcd 3.4's tools/benchmark makes them: a key is --key-size
// bytes, zero-filled, starting with the Go varint (zigzag) of its number in [0, --key-space-size) — the
// request's index modulo the key space with --sequential-keys, a random number otherwise. So the keys
// written are exactly those of etcd's tool, and a run with --sequential-keys and --total >= key space
// leaves every key of the space in the store.

/** Writes Go's binary.PutVarint(n) for a non-negative safe integer n at the start of out. */
export function putVarint(out: Uint8Array, n: number): void {
  let u = n * 2; // zigzag encoding of n >= 0
  let i = 0;
  for (; u >= 128 && i < out.length - 1; i++) {
    out[i] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  out[i] = u;
}

/** The key of put number `index` (0-based). `random` returns a float in [0, 1), injected for tests. */
export function putKey(
  index: number,
  keySize: number,
  keySpaceSize: number,
  sequentialKeys: boolean,
  random: () => number,
): Buffer {
  const n = sequentialKeys ? index % keySpaceSize : Math.floor(random() * keySpaceSize);
  const key = Buffer.alloc(keySize);
  putVarint(key, n);
  return key;
}

/** One value for all puts, as etcd's tool does: random bytes of --val-size. */
export function putValue(valSize: number, random: () => number): Buffer {
  const value = Buffer.alloc(valSize);
  for (let i = 0; i < valSize; i++) value[i] = Math.floor(random() * 256);
  return value;
}
