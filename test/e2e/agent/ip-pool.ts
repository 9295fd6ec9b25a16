// Pod addresses. Node i owns 10.244.(i+1).0/24 inside the environment's 10.244.0.0/16 bridge network
// (10.244.0.0/24 is the bridge's own). Addresses are handed out round-robin, so one a pod has just
// released is not given to the next pod at once (peers' DNS caches and conntrack still point at it).
import assert from 'node:assert/strict';

export const POD_NETWORK_PREFIX_LENGTH = 16;
const HOST_FIRST = 2;
const HOST_LAST = 254;

export function nodePodCIDR(gateway: string, nodeIndex: number): string {
  return `${subnetBase(gateway, nodeIndex)}.0/24`;
}

function subnetBase(gateway: string, nodeIndex: number): string {
  const [a, b] = gateway.split('.');
  assert(a !== undefined && b !== undefined, `gateway ${gateway} is not an IPv4 address`);
  return `${a}.${b}.${nodeIndex + 1}`;
}

export class IpPool {
  private readonly used = new Set<number>();
  private next = HOST_FIRST;
  private readonly base: string;

  constructor(gateway: string, nodeIndex: number) {
    this.base = subnetBase(gateway, nodeIndex);
  }

  allocate(): string {
    for (let tried = 0; tried <= HOST_LAST - HOST_FIRST; tried++) {
      const host = this.next;
      this.next = host >= HOST_LAST ? HOST_FIRST : host + 1;
      if (!this.used.has(host)) {
        this.used.add(host);
        return `${this.base}.${host}`;
      }
    }
    throw new Error(`no free pod address in ${this.base}.0/24`);
  }

  release(ip: string): void {
    const host = Number(ip.split('.')[3]);
    this.used.delete(host);
  }
}
