import type { Telemetry } from 'bullmq';
import { intakeKey, receivedKey } from '../keys.js';
import type { EventJobData } from '../queues.js';
import type { Redis } from '../redis.js';

/**
 * KEYS[1] the intake stream; KEYS[1 + i] event i's received mark.
 * ARGV[1] the marks' TTL (ms); ARGV[2i] event i's job data (JSON); ARGV[2i + 1] its trace metadata ('' for none).
 * Returns one flag per event: 1 added, 0 a duplicate (its mark exists, or an earlier event of this
 * batch had the same id). The entry is written before its mark, so a script stopped by an error
 * between the two leaves at worst an entry without a mark (a later copy is queued again and the
 * promotion's dedupe drops it), never a mark without an entry (MORI's retry would be swallowed).
 */
const INTAKE_SCRIPT = `
local ttl = ARGV[1]
local added = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('XADD', KEYS[1], '*', 'd', ARGV[2 * i - 2], 't', ARGV[2 * i - 1])
    redis.call('SET', KEYS[i], '1', 'PX', ttl)
    added[i - 1] = 1
  else
    added[i - 1] = 0
  end
end
return added
`;

interface Pending {
  data: EventJobData;
  trace: string;
  resolve: (added: boolean) => void;
  reject: (err: unknown) => void;
}

/** The most events one script call carries; more wait for the next flush (a turn of the event loop later). */
const MAX_BATCH = 256;

type IntakeClient = Redis & { moriIntake(...args: (string | number)[]): Promise<number[]> };

export interface Intake {
  /** Records one accepted event; resolves true once it is in Redis, false when its eventId was seen within the window. */
  add(data: EventJobData): Promise<boolean>;
}

/**
 * The webhook's only Redis write: the events that reach it in one turn of the event loop are
 * recorded by one script call, each with its dedupe mark, atomically per event. A BullMQ add costs
 * about 100 µs of the receiver's CPU per event (job objects, packing, a dozen keys per script) and
 * that much again in Redis; an intake entry costs a few µs on each side. The worker role turns
 * entries into BullMQ jobs (src/worker/promote-intake.ts); docs/decisions.md, "The intake", has the
 * measurements and the failure cases.
 */
export function createIntake(
  redis: Redis,
  prefix: string,
  { dedupeTtlMs, telemetry }: { dedupeTtlMs: number; telemetry?: Telemetry | undefined },
): Intake {
  if (!('moriIntake' in redis)) redis.defineCommand('moriIntake', { lua: INTAKE_SCRIPT });
  const client = redis as IntakeClient;
  const stream = intakeKey(prefix);
  // With traces on, each entry carries the trace of the request that sent it, for its job.
  const contextManager = telemetry?.contextManager;
  const ttl = String(dedupeTtlMs);
  let pending: Pending[] | undefined;

  const flush = (batch: Pending[]): void => {
    const keys = [stream];
    const args = [ttl];
    for (const p of batch) {
      keys.push(receivedKey(prefix, p.data.eventId));
      args.push(JSON.stringify(p.data), p.trace);
    }
    client.moriIntake(keys.length, ...keys, ...args).then(
      (added) => batch.forEach((p, i) => p.resolve(added[i] === 1)),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  };

  return {
    add(data) {
      return new Promise((resolve, reject) => {
        if (!pending) {
          const batch: Pending[] = (pending = []);
          setImmediate(() => {
            pending = undefined;
            for (let i = 0; i < batch.length; i += MAX_BATCH) flush(batch.slice(i, i + MAX_BATCH));
          });
        }
        const trace = contextManager ? contextManager.getMetadata(contextManager.active()) : '';
        pending.push({ data, trace, resolve, reject });
      });
    },
  };
}
