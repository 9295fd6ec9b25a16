// Member and cluster ids are 64-bit. The etcd3 client carries them as decimal strings; the operator (like
// etcdctl and cairn's logs) shows them as 16 hex digits. Conversions go through bigint, never number.
export function hexId(decimal: string): string {
  return BigInt(decimal).toString(16).padStart(16, '0');
}

export function decimalId(hex: string): string {
  if (!/^[0-9a-f]{1,16}$/.test(hex)) throw new Error(`not a member id: ${JSON.stringify(hex)}`);
  return BigInt(`0x${hex}`).toString(10);
}
