import type { Backend } from '../backend/backend.js';
import { AlarmType } from '../proto/gen/etcdserverpb/rpc.js';
import type { AlarmMember } from '../proto/gen/etcdserverpb/rpc.js';

/**
 * Active alarms, per member and type, persisted in the backend's alarm bucket (etcd's v3alarm store).
 * Key: 8-byte big-endian member id + 4-byte big-endian alarm type; no value.
 */
export class AlarmStore {
  private readonly active = new Map<string, AlarmMember>();

  constructor(private readonly backend: Backend) {
    for (const [k] of backend.rangeCommitted('alarm', undefined, undefined)) {
      if (k.length !== 12) throw new Error('alarm: corrupt entry in the alarm bucket');
      const m = { memberID: k.readBigUInt64BE(0), alarm: k.readUInt32BE(8) as AlarmType };
      this.active.set(k.toString('hex'), m);
    }
  }

  /** Active alarms of `type`, or all of them for NONE. */
  get(type: AlarmType): AlarmMember[] {
    const all = [...this.active.values()];
    return type === AlarmType.NONE ? all : all.filter((m) => m.alarm === type);
  }

  /** Raises an alarm and returns it; an alarm already active is returned as it is (etcd does so). */
  activate(memberID: bigint, alarm: AlarmType): AlarmMember {
    const k = alarmKey(memberID, alarm);
    const id = k.toString('hex');
    const existing = this.active.get(id);
    if (existing !== undefined) return existing;
    const m = { memberID, alarm };
    this.active.set(id, m);
    this.backend.put('alarm', k, Buffer.alloc(0));
    return m;
  }

  /** Clears an alarm; returns it, or undefined if it was not active. */
  deactivate(memberID: bigint, alarm: AlarmType): AlarmMember | undefined {
    const k = alarmKey(memberID, alarm);
    const id = k.toString('hex');
    const m = this.active.get(id);
    if (m === undefined) return undefined;
    this.active.delete(id);
    this.backend.delete('alarm', k);
    return m;
  }
}

function alarmKey(memberID: bigint, alarm: AlarmType): Buffer {
  const k = Buffer.allocUnsafe(12);
  k.writeBigUInt64BE(BigInt.asUintN(64, memberID), 0);
  k.writeUInt32BE(alarm >>> 0, 8);
  return k;
}

/** etcd's text form of an active alarm, as Status.errors lists it (`memberID:N alarm:NOSPACE `). */
export function alarmString(m: AlarmMember): string {
  return `memberID:${m.memberID} alarm:${AlarmType[m.alarm] ?? String(m.alarm)} `;
}
