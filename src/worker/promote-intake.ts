import type { JobsOptions, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { intakeKey } from '../keys.js';
import { FETCH_ORDER_JOB, newEventJobId, type EventJobData } from '../queues.js';
import type { Redis } from '../redis.js';
import { throttledWarning } from '../throttled-warning.js';

/** Every worker reads the intake as one consumer group, so each entry is promoted by one of them. */
export const INTAKE_GROUP = 'promoters';
/** Entries per read: one BullMQ addBulk, one acknowledgement. */
const BATCH = 256;
/** An empty intake is asked again after this long: the most an event waits before it is a job. */
const IDLE_POLL_MS = 100;
/**
 * An entry read but not acknowledged for this long belongs to a worker that died between reading
 * and acknowledging; another takes it over. Well above one addBulk of BATCH jobs (tens of ms).
 */
const CLAIM_IDLE_MS = 60_000;
/** After a failed round (Redis away), the loop waits this long before the next. */
const RETRY_AFTER_MS = 1000;

type StreamEntry = [id: string, fields: string[]];

export interface IntakePromoterDeps {
  /** A `plain` connection: reads and acknowledgements fail within its timeout instead of hanging. */
  redis: Redis;
  queue: Queue<EventJobData>;
  prefix: string;
  /** How long a promoted eventId stays deduplicated on the events queue (DEDUPE_WINDOW_SECONDS). */
  dedupeTtlMs: number;
  /** This worker's name in the consumer group. */
  consumer: string;
  logger: Logger;
  /** CLAIM_IDLE_MS unless set (a test that kills a promoter mid-batch need not wait a minute). */
  claimIdleMs?: number;
}

export interface IntakePromoter {
  /** One round: entries left by dead workers (when due), then new ones. Resolves to how many were promoted. */
  promoteOnce(): Promise<number>;
  /** Promotes in the background until close(). */
  start(): void;
  /** Stops the background loop after its current round. */
  close(): Promise<void>;
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Turns intake entries (src/webhook/intake.ts) into jobs on the events queue. Each entry is
 * acknowledged and deleted only after BullMQ has the job, so a worker that dies in between leaves
 * the entry pending, and after CLAIM_IDLE_MS another worker promotes it again: BullMQ's
 * deduplication by eventId (the same window as the intake's mark) turns that second add into the
 * job already there. Nothing accepted is lost, and no event becomes two jobs.
 */
export function createIntakePromoter(deps: IntakePromoterDeps): IntakePromoter {
  const { redis, queue, logger } = deps;
  const stream = intakeKey(deps.prefix);
  const warn = throttledWarning(logger, { stream }, 'could not promote intake entries; retrying');
  const claimIdleMs = deps.claimIdleMs ?? CLAIM_IDLE_MS;
  // Looked for twice per idle period, so an abandoned entry waits at most 1.5 of them.
  const claimEveryMs = claimIdleMs / 2;
  let groupReady = false;
  let lastClaim = 0;

  const ensureGroup = async (): Promise<void> => {
    if (groupReady) return;
    try {
      // From the start of the stream: entries written before any worker ever ran are promoted too.
      await redis.xgroup('CREATE', stream, INTAKE_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err as Error).message.startsWith('BUSYGROUP')) throw err;
    }
    groupReady = true;
  };

  const promote = async (entries: StreamEntry[]): Promise<number> => {
    if (entries.length === 0) return 0;
    const jobs: { name: string; data: EventJobData; opts: JobsOptions }[] = [];
    for (const [id, fields] of entries) {
      let data: EventJobData;
      try {
        data = JSON.parse(fieldOf(fields, 'd') ?? '') as EventJobData;
      } catch {
        // Only a hand-written entry can be unreadable; keeping it would block nothing but would be retried forever.
        logger.error({ stream, entryId: id }, 'dropped an intake entry that is not an event');
        continue;
      }
      const metadata = fieldOf(fields, 't');
      jobs.push({
        name: FETCH_ORDER_JOB,
        data,
        opts: {
          jobId: newEventJobId(),
          deduplication: { id: data.eventId, ttl: deps.dedupeTtlMs },
          ...(metadata ? { telemetry: { metadata } } : {}),
        },
      });
    }
    if (jobs.length > 0) await queue.addBulk(jobs);
    const ids = entries.map(([id]) => id);
    await redis
      .multi()
      .xack(stream, INTAKE_GROUP, ...ids)
      .xdel(stream, ...ids)
      .exec();
    return entries.length;
  };

  // XPENDING and XCLAIM rather than XAUTOCLAIM: they work on every Redis BullMQ runs on (5.0 and later).
  const claimAbandoned = async (): Promise<number> => {
    let promoted = 0;
    for (;;) {
      const pending = (await redis.xpending(stream, INTAKE_GROUP, '-', '+', BATCH)) as [
        string,
        string,
        number,
        number,
      ][];
      const stale = pending.filter(([, , idleMs]) => idleMs >= claimIdleMs).map(([id]) => id);
      if (stale.length === 0) return promoted;
      const claimed = (await redis.call(
        'XCLAIM',
        stream,
        INTAKE_GROUP,
        deps.consumer,
        claimIdleMs,
        ...stale,
      )) as (StreamEntry | null)[];
      const live = claimed.filter((e): e is StreamEntry => e !== null && e[1] !== null);
      promoted += await promote(live);
      // An entry deleted after it was read comes back empty; acknowledging it clears it from the group.
      const gone = stale.filter((id) => !live.some(([liveId]) => liveId === id));
      if (gone.length > 0) await redis.xack(stream, INTAKE_GROUP, ...gone);
      if (pending.length < BATCH) return promoted;
    }
  };

  const readGroup = async (from: '0' | '>'): Promise<StreamEntry[]> => {
    const read = (await redis.xreadgroup(
      'GROUP',
      INTAKE_GROUP,
      deps.consumer,
      'COUNT',
      BATCH,
      'STREAMS',
      stream,
      from,
    )) as [string, StreamEntry[]][] | null;
    return read?.[0]?.[1] ?? [];
  };

  // Entries this worker read but did not acknowledge: a round that failed after its read (Redis
  // away, a failover) left them pending under our own name. They are read again ('0': our own
  // pending ones) before anything new, rather than waiting CLAIM_IDLE_MS for a claim.
  let ownPending = true;

  const promoteOnce = async (): Promise<number> => {
    await ensureGroup();
    let promoted = 0;
    if (Date.now() - lastClaim >= claimEveryMs) {
      promoted += await claimAbandoned();
      lastClaim = Date.now();
    }
    if (ownPending) {
      const mine = await readGroup('0');
      if (mine.length > 0) {
        // An entry deleted after it was read comes back empty; acknowledging it clears it from the group.
        const gone = mine.filter((e) => e[1] === null).map(([id]) => id);
        if (gone.length > 0) await redis.xack(stream, INTAKE_GROUP, ...gone);
        return promoted + gone.length + (await promote(mine.filter((e) => e[1] !== null)));
      }
      ownPending = false;
    }
    return promoted + (await promote(await readGroup('>')));
  };

  let running: Promise<void> | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = async (): Promise<void> => {
    while (!stopped) {
      let promoted: number;
      try {
        promoted = await promoteOnce();
      } catch (err) {
        // The group may be gone with the stream (a FLUSHALL, a new Redis): create it again next round.
        groupReady = false;
        ownPending = true;
        warn(err);
        await pause(RETRY_AFTER_MS);
        continue;
      }
      // A full batch means more are waiting: read again at once.
      if (promoted < BATCH) await pause(IDLE_POLL_MS);
    }
  };

  return {
    promoteOnce,
    start() {
      running ??= loop();
    },
    async close() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
