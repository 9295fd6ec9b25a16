/**
 * An invalid configuration change requested by the application (entering a joint config twice,
 * removing every voter, changing two voters without joint consensus, ...). An operating error: the
 * active configuration is left as it was and the caller decides what to do (etcd's Changer returns
 * these as errors; raft logs them and keeps the old config).
 */
export class ConfChangeError extends Error {
  override readonly name = 'ConfChangeError';
}
