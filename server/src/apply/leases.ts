/** What the apply path needs to know about leases: whether one exists (a put may attach a key to it). */
export interface LeaseLookup {
  exists(id: bigint): boolean;
}
