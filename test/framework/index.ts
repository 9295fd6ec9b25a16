// Test framework entry point. No side effects at import time: `node --test dist/test/` also loads
// every file under dist/test/ (including this one) as a test file.
export { freePort, freePorts } from './ports.js';
export { waitFor } from './wait.js';
export { etcdctl, formatCommand, ETCDCTL_BIN, type EtcdctlOptions, type EtcdctlResult } from './etcdctl.js';
export {
  startCairn,
  startEtcd,
  stopAll,
  cairnTarget,
  CAIRN_JS,
  ETCD_BIN,
  REPO_ROOT,
  type Member,
  type StartOptions,
  type StopOptions,
  type TargetKind,
} from './member.js';
export {
  parseJson,
  b64,
  splitStderr,
  parseRpcError,
  parseTable,
  renderTable,
  lineDiff,
  type SplitStderr,
  type Table,
} from './output.js';
export { Normalizer, identityOf, type Identity } from './normalize.js';
export {
  ctlFor,
  expectOk,
  expectJson,
  expectRpcError,
  expectClientError,
  type CtlResult,
} from './assertions.js';
export {
  startCluster,
  kvClient,
  ClusterMember,
  hexId,
  bare,
  type Cluster,
  type ClusterOptions,
  type AddMemberOptions,
  type EndpointStatus,
  type HashKV,
  type MemberInfo,
} from './cluster.js';
