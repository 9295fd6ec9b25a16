// `defrag --safe` (Cairn's own; plain `defrag` stays etcdctl 3.4's): defragment a cluster one member at
// a time without putting it at risk — what the operator's maintenance Jobs run.
//
//   1. the members: the --endpoints given, or with --cluster every voting member of the member list
//      (one client URL each). Learners are left out: they answer Status but refuse Defragment, as etcd's.
//   2. the health gate (defrag-gate.ts), before the first member and again before each next one;
//   3. the next member: followers in member-list order, the leader last (defrag-order.ts), re-planned
//      after each gate, so a leader change mid-run still leaves the new leader for last;
//   4. --defrag-rule on its fresh Status (defrag-rule.ts): false → skipped;
//   5. Defragment with --member-timeout as the deadline; a failure stops the run unless
//      --continue-on-error;
//   6. with --disarm-nospace, the NOSPACE alarms go once every member is below its quota (nospace-disarm.ts).
//
// stdout: etcdctl's `Finished defragmenting etcd member[<ep>]` per member, `Skipped …` for a rule that said
// no, the disarmed alarms as `alarm disarm` prints them; stderr: log lines and failures. --result-file:
// the run's JSON (defrag-result.ts) once the first gate has passed, else the reason as one plain line.
import {
  AlarmRequest_AlarmAction as AlarmAction,
  AlarmType,
  ClusterService,
  MaintenanceService,
  type StatusResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { memberListRequest, statusRequest } from '../proto/messages.js';
import { durationToMs } from '../util/go-duration.js';
import { bytesOf } from './byte-string.js';
import { failureText } from './call.js';
import { CallFailure, EtcdClient } from './client.js';
import { alarmMemberText } from './alarm-text.js';
import type { Invocation } from './command.js';
import { checkHealth, type GateVerdict, type MemberStatus, type Observed } from './defrag-gate.js';
import { defragOrder } from './defrag-order.js';
import { renderDefragResult, type MemberResult } from './defrag-result.js';
import { DefragRule, DefragRuleError } from './defrag-rule.js';
import { quotaOf, ruleVars, ruleVarsText } from './defrag-rule-vars.js';
import { parseEndpoint } from './endpoint.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline, keepaliveFromFlags, mustClient } from './global-flags.js';
import { logLine } from './log-line.js';
import { decideNoSpaceDisarm } from './nospace-disarm.js';
import { writeResultFile } from './result-file.js';

const caller = 'ctl/defrag.go';

/** Gate re-checks (1 s apart) a member trailing the leader gets before the run stops. */
const lagRechecksMax = 10;
const lagRecheckIntervalMs = 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface SafeOptions {
  readonly rule: DefragRule;
  readonly maxLag: number;
  /** The quota assumed for a member whose Status reports none (--quota-backend-bytes). */
  readonly quotaFallback: number;
  readonly memberTimeoutMs: number;
  readonly continueOnError: boolean;
  readonly disarmNoSpace: boolean;
}

/** A member to defragment: known by name and id from the member list, or by endpoint until its Status. */
interface Target {
  readonly name: string;
  readonly endpoint: string;
  readonly memberId: bigint | undefined;
}

/** A member that answered the first gate's Status. */
interface Member extends Target {
  readonly memberId: bigint;
}

/** The flags only `--safe` has; given without it they are an error (checkSafeFlags). */
export const SAFE_ONLY_FLAGS = [
  'defrag-rule',
  'max-lag',
  'member-timeout',
  'continue-on-error',
  'disarm-nospace',
  'quota-backend-bytes',
  'result-file',
] as const;

function safeOptions(inv: Invocation): SafeOptions {
  let rule: DefragRule;
  try {
    rule = DefragRule.parse(inv.flags.string('defrag-rule'));
  } catch (err) {
    if (!(err instanceof DefragRuleError)) throw err;
    throw new CtlExit(ExitCode.error, bytesOf(`invalid --defrag-rule: ${err.message}`));
  }
  const maxLag = inv.flags.int64('max-lag');
  if (maxLag < 0n) throw new CtlExit(ExitCode.error, `--max-lag must not be negative (got ${maxLag})`);
  const quota = inv.flags.int64('quota-backend-bytes');
  if (quota <= 0n) throw new CtlExit(ExitCode.error, `--quota-backend-bytes must be positive (got ${quota})`);
  const timeout = inv.flags.duration('member-timeout');
  if (timeout <= 0n) throw new CtlExit(ExitCode.error, '--member-timeout must be positive');
  return {
    rule,
    maxLag: Number(maxLag),
    quotaFallback: Number(quota),
    memberTimeoutMs: durationToMs(timeout),
    continueOnError: inv.flags.bool('continue-on-error'),
    disarmNoSpace: inv.flags.bool('disarm-nospace'),
  };
}

function toMemberStatus(r: StatusResponse): MemberStatus {
  return {
    memberId: r.header?.memberId ?? 0n,
    leader: r.leader,
    raftAppliedIndex: Number(r.raftAppliedIndex),
    dbSize: Number(r.dbSize),
    dbSizeInUse: Number(r.dbSizeInUse),
    dbSizeQuota: Number(r.dbSizeQuota),
    isLearner: r.isLearner,
    errors: r.errors,
  };
}

/** Runs `defrag --safe`; its failures before the first gate go to --result-file as one plain line. */
export async function runSafeDefrag(inv: Invocation): Promise<void> {
  const resultFile = inv.flags.string('result-file');
  let wroteResult = false;
  const writeResult = async (line: string): Promise<void> => {
    await writeResultFile(resultFile, line);
    wroteResult = true;
  };
  try {
    await safeDefrag(inv, writeResult);
  } catch (err) {
    if (!wroteResult && err instanceof CtlExit && err.errorText !== undefined) {
      await writeResultFile(resultFile, `${err.errorText}\n`).catch(() => undefined);
    }
    throw err;
  }
}

class SafeDefrag {
  constructor(
    private readonly inv: Invocation,
    private readonly opts: SafeOptions,
    private readonly token: string | undefined,
  ) {}

  private client(endpoint: string): EtcdClient {
    const c = new EtcdClient(
      [parseEndpoint(endpoint)],
      'passthrough',
      this.inv.io,
      keepaliveFromFlags(this.inv),
    );
    c.token = this.token;
    return c;
  }

  /** Status of one member, bounded by --command-timeout. */
  async observe(t: Target): Promise<Observed> {
    if (t.endpoint === '')
      return { name: t.name, endpoint: t.endpoint, status: undefined, failure: 'no client URL' };
    const c = this.client(t.endpoint);
    try {
      const r = await c.call(
        MaintenanceService.status,
        statusRequest(),
        'repeatable',
        commandDeadline(this.inv),
      );
      return { name: t.name, endpoint: t.endpoint, status: toMemberStatus(r) };
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      return { name: t.name, endpoint: t.endpoint, status: undefined, failure: failureText(err) };
    } finally {
      c.close();
    }
  }

  async observeAll(targets: readonly Target[]): Promise<Observed[]> {
    const out: Observed[] = [];
    for (const t of targets) out.push(await this.observe(t));
    return out;
  }

  /** Defragment on one member with --member-timeout as deadline; undefined on success, else the failure. */
  async defragment(t: Target): Promise<string | undefined> {
    const c = this.client(t.endpoint);
    try {
      const deadline = Date.now() + this.opts.memberTimeoutMs;
      await c.call(MaintenanceService.defragment, {}, 'nonRepeatable', deadline);
      return undefined;
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      return failureText(err);
    } finally {
      c.close();
    }
  }
}

/**
 * The members to defragment, in member-list (or --endpoints) order, learners of the member list left out;
 * and every member's name by id (for --endpoints, whose ids come with each member's first Status).
 */
async function defragTargets(
  inv: Invocation,
  main: EtcdClient,
): Promise<{ targets: Target[]; names: Map<bigint, string> }> {
  let members;
  try {
    members = (
      await main.call(ClusterService.memberList, memberListRequest(), 'repeatable', commandDeadline(inv))
    ).members;
  } catch (err) {
    if (!(err instanceof CallFailure)) throw err;
    throw new CtlExit(ExitCode.error, `failed to fetch the cluster member list: ${failureText(err)}`);
  }
  const names = new Map(members.map((m) => [m.ID, m.name]));
  if (!inv.flags.bool('cluster')) {
    const targets = inv.flags
      .strings('endpoints')
      .map((e) => ({ name: '', endpoint: e.trim(), memberId: undefined }));
    return { targets, names };
  }
  const targets: Target[] = [];
  for (const m of members) {
    if (m.isLearner) {
      logLine(inv.io, caller, 'info', 'leaving out a learner (learners refuse Defragment)', {
        member: m.name,
      });
      continue;
    }
    // One client URL per member: defragmenting a member once per URL would only stall it longer.
    targets.push({ name: m.name, endpoint: m.clientURLs[0] ?? '', memberId: m.ID });
  }
  return { targets, names };
}

async function safeDefrag(inv: Invocation, writeResult: (line: string) => Promise<void>): Promise<void> {
  const opts = safeOptions(inv);
  const { cfg } = await clientConfigFromCmd(inv);
  const main = await mustClient(cfg, inv);
  try {
    await new SafeRun(inv, opts, main).run(writeResult);
  } finally {
    main.close();
  }
}

class SafeRun {
  private readonly ctl: SafeDefrag;
  private readonly handled: MemberResult[] = [];
  private failed = false;

  constructor(
    private readonly inv: Invocation,
    private readonly opts: SafeOptions,
    private readonly main: EtcdClient,
  ) {
    this.ctl = new SafeDefrag(inv, opts, main.token);
  }

  private log(
    level: 'info' | 'warn' | 'error',
    msg: string,
    fields: Record<string, string | number | boolean>,
  ): void {
    logLine(this.inv.io, caller, level, msg, fields);
  }

  async run(writeResult: (line: string) => Promise<void>): Promise<void> {
    const io = this.inv.io;
    const { targets: listed, names } = await defragTargets(this.inv, this.main);
    if (this.opts.rule.empty) this.log('info', 'no defragmentation rule: every member is defragmented', {});
    else this.log('info', 'defragmentation rule', { rule: this.opts.rule.text });

    // The first gate; it also gives --endpoints their ids and names, and finds learners and several URLs
    // of one member among them.
    const first: Observed[] = [];
    const targets: Member[] = [];
    const seen = new Set<bigint>();
    for (const t of listed) {
      const o = await this.ctl.observe(t);
      const s = o.status;
      if (s === undefined) {
        first.push(o);
        continue;
      }
      const member = {
        name: t.name || (names.get(s.memberId) ?? ''),
        endpoint: t.endpoint,
        memberId: s.memberId,
      };
      if (s.isLearner) {
        this.log('info', 'leaving out a learner (learners refuse Defragment)', { endpoint: t.endpoint });
        continue;
      }
      if (seen.has(s.memberId)) continue;
      seen.add(s.memberId);
      this.log('info', 'member status', {
        endpoint: t.endpoint,
        member: member.name,
        leader: s.memberId === s.leader,
        dbSize: s.dbSize,
        dbSizeInUse: s.dbSizeInUse,
        raftAppliedIndex: s.raftAppliedIndex,
      });
      first.push({ ...o, name: member.name });
      targets.push(member);
    }
    const firstVerdict = checkHealth(first, this.opts.maxLag);
    if (!firstVerdict.healthy) {
      throw new CtlExit(
        ExitCode.error,
        bytesOf(`cluster not healthy, nothing defragmented: ${firstVerdict.reason}`),
      );
    }

    const startTime = io.wallClock().date;
    let stopped: string | undefined;
    let observed = first;
    let leader = firstVerdict.leader;
    const remaining = [...targets];
    for (let round = 0; remaining.length > 0; round++) {
      if (round > 0) {
        // The member just defragmented held its commits meanwhile: under writes it may trail for a
        // moment, so lag alone gets a few seconds to pass; anything else stops the run at once.
        let verdict: GateVerdict;
        for (let attempt = 1; ; attempt++) {
          observed = await this.ctl.observeAll(targets);
          verdict = checkHealth(observed, this.opts.maxLag);
          if (verdict.healthy || verdict.cause !== 'lag' || attempt >= lagRechecksMax) break;
          this.log('info', 'waiting for a member to catch up', { reason: verdict.reason, attempt });
          await sleep(lagRecheckIntervalMs);
        }
        if (!verdict.healthy) {
          stopped = `cluster not healthy, stopped before the next member: ${verdict.reason}`;
          break;
        }
        leader = verdict.leader;
      }
      const next = defragOrder(remaining, leader)[0]!;
      remaining.splice(remaining.indexOf(next), 1);
      const status = observed.find((o) => o.endpoint === next.endpoint)!.status!;
      const stop = await this.handle(next, status, next.memberId === leader);
      if (stop !== undefined) {
        stopped = stop;
        break;
      }
    }

    let disarmed: string[] = [];
    if (stopped === undefined && this.opts.disarmNoSpace) {
      const d = await this.disarm(targets);
      if (typeof d === 'string') stopped = d;
      else disarmed = d;
    }
    const line = renderDefragResult({
      startTime,
      completionTime: io.wallClock().date,
      members: this.handled,
      disarmed,
      ...(stopped !== undefined ? { error: stopped } : {}),
    });
    await writeResult(line);
    if (stopped !== undefined) throw new CtlExit(ExitCode.error, bytesOf(stopped));
    if (this.failed) throw new CtlExit(ExitCode.error, undefined);
  }

  /** One member: the rule, then Defragment. Returns why the run must stop, if it must. */
  private async handle(t: Member, s: MemberStatus, isLeader: boolean): Promise<string | undefined> {
    const io = this.inv.io;
    const base = {
      name: t.name,
      endpoint: t.endpoint,
      leader: isLeader,
      dbSizeBefore: s.dbSize,
      dbSizeInUseBefore: s.dbSizeInUse,
    };
    const vars = ruleVars(s, this.opts.quotaFallback);
    if (!this.opts.rule.evaluate(vars)) {
      io.stdout.write(
        bytesOf(`Skipped defragmenting etcd member[${t.endpoint}] (rule false: ${ruleVarsText(vars)})\n`),
      );
      this.handled.push({ ...base, defragmented: false, skipped: 'rule false' });
      return undefined;
    }
    this.log('info', 'defragmenting', { endpoint: t.endpoint, member: t.name, leader: isLeader });
    const t0 = io.monotonicNs();
    const failure = await this.ctl.defragment(t);
    const seconds = Number(io.monotonicNs() - t0) / 1e9;
    if (failure !== undefined) {
      this.failed = true;
      io.stderr.write(bytesOf(`Failed to defragment etcd member[${t.endpoint}] (${failure})\n`));
      this.handled.push({ ...base, defragmented: false, seconds, error: failure });
      return this.opts.continueOnError
        ? undefined
        : `defragmenting member ${t.name || t.endpoint} failed: ${failure}`;
    }
    io.stdout.write(bytesOf(`Finished defragmenting etcd member[${t.endpoint}]\n`));
    const after = (await this.ctl.observe(t)).status;
    if (after === undefined) this.log('warn', 'no Status after defragmenting', { endpoint: t.endpoint });
    this.handled.push({
      ...base,
      ...(after !== undefined ? { dbSizeAfter: after.dbSize } : {}),
      defragmented: true,
      seconds,
    });
    return undefined;
  }

  /** --disarm-nospace: the alarm types disarmed, or why the run fails. */
  private async disarm(targets: readonly Target[]): Promise<string[] | string> {
    const deadline = commandDeadline(this.inv);
    const list = { action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE };
    try {
      const alarms = (await this.main.call(MaintenanceService.alarm, list, 'repeatable', deadline)).alarms;
      const observed = await this.ctl.observeAll(targets);
      const missing = observed.find((o) => o.status === undefined);
      if (missing !== undefined && alarms.some((a) => a.alarm === AlarmType.NOSPACE)) {
        return `not disarming NOSPACE: member ${missing.name || missing.endpoint} did not answer Status: ${missing.failure ?? ''}`;
      }
      const sizes = observed.flatMap((o) =>
        o.status === undefined
          ? []
          : [
              {
                name: o.name || o.endpoint,
                dbSize: o.status.dbSize,
                quota: quotaOf(o.status.dbSizeQuota, this.opts.quotaFallback),
              },
            ],
      );
      const decision = decideNoSpaceDisarm(alarms, sizes);
      if ('reason' in decision) {
        this.log('info', 'not disarming NOSPACE', { reason: decision.reason });
        return [];
      }
      for (const a of decision.disarm) {
        const req = { action: AlarmAction.DEACTIVATE, memberID: a.memberID, alarm: a.alarm };
        await this.main.call(MaintenanceService.alarm, req, 'nonRepeatable', commandDeadline(this.inv));
        this.inv.io.stdout.write(`${alarmMemberText(a)}\n`);
      }
      return decision.disarm.length > 0 ? ['NOSPACE'] : [];
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      return `disarming NOSPACE failed: ${failureText(err)}`;
    }
  }
}
