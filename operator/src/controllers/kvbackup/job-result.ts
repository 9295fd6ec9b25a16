// What a backup or restore-verify Job reports: `cairnctl backup save` and `backup fetch` write one JSON
// object to the termination log, and the operator reads it from the finished pod's status. Anything else there (a crash's log tail, with
// FallbackToLogsOnError) is the reason a failed attempt gives.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';

export const SaveResultSchema = Type.Object({
  objectURL: Type.String(),
  sizeBytes: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  revision: Type.Integer({ minimum: 0 }),
  member: Type.String(),
  memberID: Type.String(),
  clusterID: Type.String(),
  startTime: Type.String(),
  completionTime: Type.String(),
});
export type SaveResult = Static<typeof SaveResultSchema>;

/** A failed attempt's reason is cut to this many characters in the status and Events. */
const MESSAGE_MAX = 1_000;

/** `cairnctl backup fetch --result-file`: the verified object. */
export const FetchResultSchema = Type.Object({
  objectURL: Type.String(),
  sizeBytes: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  revision: Type.Integer({ minimum: 0 }),
});
export type FetchResult = Static<typeof FetchResultSchema>;

/** `cairnctl defrag --cluster --safe --result-file`: each member in the order handled. */
export const DefragResultSchema = Type.Object({
  startTime: Type.String(),
  completionTime: Type.String(),
  members: Type.Array(
    Type.Object({
      name: Type.String(),
      leader: Type.Optional(Type.Boolean()),
      defragmented: Type.Boolean(),
      skipped: Type.Optional(Type.String()),
      error: Type.Optional(Type.String()),
      dbSizeBefore: Type.Optional(Type.Integer({ minimum: 0 })),
      dbSizeAfter: Type.Optional(Type.Integer({ minimum: 0 })),
      seconds: Type.Optional(Type.Number({ minimum: 0 })),
    }),
  ),
  disarmed: Type.Optional(Type.Array(Type.String())),
  /** Why the run stopped early (a later health check, a member that failed). */
  error: Type.Optional(Type.String()),
});
export type DefragResult = Static<typeof DefragResultSchema>;

function parseResult<S extends TSchema>(schema: S, message: string | undefined): Static<S> | undefined {
  if (message === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(message.trim());
  } catch {
    return undefined;
  }
  return Value.Check(schema, value) ? value : undefined;
}

/** The save result in a termination message, or undefined if it is not one. */
export const parseSaveResult = (message: string | undefined): SaveResult | undefined =>
  parseResult(SaveResultSchema, message);

/** The fetch result in a termination message, or undefined if it is not one. */
export const parseFetchResult = (message: string | undefined): FetchResult | undefined =>
  parseResult(FetchResultSchema, message);

export type JobOutcome =
  | { state: 'running'; failedAttempts: number; lastError: string | undefined }
  | { state: 'succeeded'; message: string | undefined }
  | {
      state: 'failed';
      failedAttempts: number;
      lastError: string | undefined;
      /** The last failed attempt's whole termination message (a result JSON may be there too). */
      message: string | undefined;
    };

function terminated(pod: V1Pod): { exitCode: number; message: string | undefined; at: string } | undefined {
  const t = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (t === undefined) return undefined;
  const at = t.finishedAt instanceof Date ? t.finishedAt.toISOString() : String(t.finishedAt ?? '');
  return { exitCode: t.exitCode, message: t.message?.trim(), at };
}

export function shorten(text: string): string {
  return text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX)}…`;
}

/** Where a Job is, from its status and its pods' termination messages. */
export function jobOutcome(job: V1Job, pods: readonly V1Pod[]): JobOutcome {
  const ended = pods
    .map(terminated)
    .filter((t): t is NonNullable<typeof t> => t !== undefined)
    .sort((a, b) => a.at.localeCompare(b.at));
  const lastFailure = ended.filter((t) => t.exitCode !== 0).at(-1);
  const lastError =
    lastFailure === undefined
      ? undefined
      : shorten(lastFailure.message ?? `exit code ${lastFailure.exitCode}`);
  const failedAttempts = job.status?.failed ?? 0;
  const condition = (type: string): boolean =>
    job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
  if (condition('Complete') || (job.status?.succeeded ?? 0) > 0) {
    return { state: 'succeeded', message: ended.filter((t) => t.exitCode === 0).at(-1)?.message };
  }
  if (condition('Failed')) {
    const reason = job.status?.conditions?.find((c) => c.type === 'Failed')?.message;
    return { state: 'failed', failedAttempts, lastError: lastError ?? reason, message: lastFailure?.message };
  }
  return { state: 'running', failedAttempts, lastError };
}

/** The defrag result in a termination message, or undefined if it is not one. */
export const parseDefragResult = (message: string | undefined): DefragResult | undefined =>
  parseResult(DefragResultSchema, message);
