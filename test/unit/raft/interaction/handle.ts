import { RaftError } from '../../../../server/src/raft/errors.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';
import { handleAddNodes } from './handler-add-nodes.js';
import { handleCampaign } from './handler-campaign.js';
import { handleDeliverMsgs } from './handler-deliver-msgs.js';
import { handleLogLevel } from './handler-log-level.js';
import { handleApplyReady, handleProcessReady } from './handler-process-ready.js';
import { handlePropose } from './handler-propose.js';
import { handleProposeConfChange } from './handler-propose-conf-change.js';
import { handleCompact, handleRaftLog } from './handler-raft-log.js';
import { handleReadIndex } from './handler-read-index.js';
import { handleReportSnapshot, handleReportUnreachable } from './handler-report.js';
import { handleRestart } from './handler-restart.js';
import { handleSendSnapshot } from './handler-send-snapshot.js';
import { handleSetRandomizedElectionTimeout } from './handler-set-randomized-election-timeout.js';
import { handleStabilize } from './handler-stabilize.js';
import { handleRaftState, handleStatus } from './handler-status.js';
import { handleTickElection, handleTickHeartbeat } from './handler-tick.js';
import { handleTransferLeadership } from './handler-transfer-leadership.js';

type Handler = (env: InteractionEnv, d: TestData) => void;

/** The command language; testdata/README.md describes each command. */
const HANDLERS: Record<string, Handler> = {
  'add-nodes': handleAddNodes,
  'apply-ready': handleApplyReady,
  campaign: handleCampaign,
  compact: handleCompact,
  'deliver-msgs': handleDeliverMsgs,
  'log-level': handleLogLevel,
  'process-ready': handleProcessReady,
  propose: handlePropose,
  'propose-conf-change': handleProposeConfChange,
  'raft-log': handleRaftLog,
  'raft-state': handleRaftState,
  'read-index': handleReadIndex,
  'report-snapshot': handleReportSnapshot,
  'report-unreachable': handleReportUnreachable,
  restart: handleRestart,
  'send-snapshot': handleSendSnapshot,
  'set-randomized-election-timeout': handleSetRandomizedElectionTimeout,
  stabilize: handleStabilize,
  status: handleStatus,
  'tick-election': handleTickElection,
  'tick-heartbeat': handleTickHeartbeat,
  'transfer-leadership': handleTransferLeadership,
};

/**
 * Runs one command and returns its output: what it printed, or `ok` when nothing. An operating error
 * of the core (a dropped proposal) is part of the transcript; anything else (a malformed script, a
 * failed assertion in the core) throws and fails the test.
 */
export function handle(env: InteractionEnv, d: TestData): string {
  const h = HANDLERS[d.cmd];
  if (h === undefined) throw new Error(`${d.pos}: unknown command ${d.cmd}`);
  env.output.take();
  try {
    h(env, d);
  } catch (e) {
    if (!(e instanceof RaftError)) throw e;
    // Errors show even when the output is silenced.
    if (env.output.quiet()) return e.message;
    env.output.line(e.message);
  }
  const out = env.output.take();
  return out === '' ? 'ok' : out;
}
