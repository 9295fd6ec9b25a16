import type { Logger } from '../util/logger.js';
import { idHex } from './ids.js';

/**
 * Whether the stream to a peer is up, and since when (etcd's peerStatus). Each transition is logged
 * once; repeated failures while inactive are logged at debug level only.
 */
export class PeerStatus {
  // Invariant: since is defined exactly when active.
  private active = false;
  private since: number | undefined;

  constructor(
    private readonly peerId: bigint,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  activate(): void {
    if (this.active) return;
    this.active = true;
    this.since = this.now();
    this.logger.info('peer became active', { 'peer-id': idHex(this.peerId) });
  }

  deactivate(reason: string): void {
    if (!this.active) {
      this.logger.debug('peer deactivated again', { 'peer-id': idHex(this.peerId), reason });
      return;
    }
    this.active = false;
    this.since = undefined;
    this.logger.warn('peer became inactive (message send to peer failed)', {
      'peer-id': idHex(this.peerId),
      reason,
    });
  }

  isActive(): boolean {
    return this.active;
  }

  /** When the peer became active (ms since the epoch), or undefined while inactive. */
  activeSince(): number | undefined {
    return this.since;
  }
}
