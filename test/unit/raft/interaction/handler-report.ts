import { boolArg, nodeIds, onlyKeys } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

function pair(d: TestData): [bigint, bigint] {
  const ids = nodeIds(d);
  const [from, to] = ids;
  if (ids.length !== 2 || from === undefined || to === undefined) {
    throw new Error(`${d.pos}: expected two node ids: the reporting node and the reported one`);
  }
  return [from, to];
}

/** report-unreachable <on> <peer>: tells `on` that a message to `peer` could not be delivered. */
export function handleReportUnreachable(env: InteractionEnv, d: TestData): void {
  const [on, peer] = pair(d);
  env.node(on).rawNode.reportUnreachable(peer);
}

/** report-snapshot <on> <peer> ok=<bool>: tells `on` whether the snapshot it sent to `peer` arrived. */
export function handleReportSnapshot(env: InteractionEnv, d: TestData): void {
  onlyKeys(d, ['ok']);
  const [on, peer] = pair(d);
  const ok = boolArg(d, 'ok');
  if (ok === undefined) throw new Error(`${d.pos}: ok=true|false is required`);
  env.node(on).rawNode.reportSnapshot(peer, ok);
}
