import type { Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { HistoryEntry, OrderHistory } from '../history/order-history.js';
import { MoriApiError, type MoriClient } from '../mori/mori-client.js';
import { isFinal } from '../orders/order-status.js';
import type { DeliveryJobData, EventJobData } from '../queues.js';
import { SinkError } from '../sinks/sink.js';
import type { DeliverResult } from './deliver-job.js';
import { buildEnvelope } from './envelope.js';

type Processor<D, R> = (job: Job<D>, token?: string) => Promise<R>;

export interface HistoryRecorder {
  /** The same MORI client, each look-up recorded in the order's history. */
  mori(mori: Pick<MoriClient, 'getOrder' | 'apiVersion'>): Pick<MoriClient, 'getOrder'>;
  /** The fetch-order processor, recording the event the first time a worker takes it. */
  events<R>(processor: Processor<EventJobData, R>): Processor<EventJobData, R>;
  /** Records every finished attempt of the deliveries worker, and the envelope it delivered. */
  deliveries(worker: Worker<DeliveryJobData, DeliverResult>, known: { test?: boolean }): void;
}

/**
 * The worker's side of the order history (src/history/order-history.ts). The intake only counts
 * duplicates: an event is recorded here, from the job that carries it and its receive time, so the
 * webhook's first answer costs no extra Redis round trip. Delivery attempts are recorded from the
 * worker's `completed` and `failed` events, where BullMQ has already chosen the next retry's delay.
 * Writes are not awaited: a job never waits on its history, and one that cannot be written is
 * logged and never fails a job (the entries sort by their own time when read).
 */
export function createHistoryRecorder(history: OrderHistory, logger: Logger): HistoryRecorder {
  const write = async (orderId: string, what: Promise<void>) => {
    try {
      await what;
    } catch (err) {
      logger.warn({ orderId, err: (err as Error).message }, 'could not write the order history');
    }
  };
  const record = (orderId: string, entries: HistoryEntry[], envelope?: unknown) =>
    write(orderId, history.record(orderId, entries, envelope));
  // An event taken from the queue is written with the look-up it leads to, in one call.
  const received = new Map<string, HistoryEntry[]>();
  const takeReceived = (orderId: string): HistoryEntry[] => {
    const pending = received.get(orderId) ?? [];
    received.delete(orderId);
    return pending;
  };

  return {
    mori: (mori) => ({
      async getOrder(orderId, purpose) {
        const started = Date.now();
        const at = new Date(started).toISOString();
        const base = { kind: 'lookup', at, apiVersion: mori.apiVersion, purpose } as const;
        try {
          const order = await mori.getOrder(orderId, purpose);
          const durationMs = Date.now() - started;
          const outcome = isFinal(order.status) ? 'final' : 'not-final';
          void record(orderId, [...takeReceived(orderId), { ...base, outcome, status: order.status, durationMs }]);
          return order;
        } catch (err) {
          const durationMs = Date.now() - started;
          const api = err instanceof MoriApiError ? err : undefined;
          void record(orderId, [
            ...takeReceived(orderId),
            {
              ...base,
              outcome: api?.kind === 'rate-limited' ? 'rate-limited' : 'error',
              ...(api?.status !== undefined ? { httpStatus: api.status } : {}),
              error: (err as Error).message,
              durationMs,
            },
          ]);
          throw err;
        }
      },
    }),

    events: (processor) => async (job, token) => {
      // First run only: a look-up that goes round again (not final, a retry, a pause) set moriCalls.
      if (job.attemptsMade !== 0 || job.data.moriCalls !== undefined) return processor(job, token);
      const { orderId, eventId, eventType, generation, receivedAt } = job.data;
      const entry: HistoryEntry = {
        kind: 'received',
        at: receivedAt,
        eventId,
        eventType,
        generation,
        jobId: String(job.id),
      };
      received.set(orderId, [...(received.get(orderId) ?? []), entry]);
      try {
        return await processor(job, token);
      } finally {
        // The job ended before its look-up (a pause, an error): the event is written on its own.
        const pending = received.get(orderId) ?? [];
        if (pending.includes(entry)) {
          const rest = pending.filter((e) => e !== entry);
          if (rest.length > 0) received.set(orderId, rest);
          else received.delete(orderId);
          void record(orderId, [entry]);
        }
      }
    },

    deliveries: (worker, known) => {
      const base = (job: Job<DeliveryJobData>) => ({
        kind: 'attempt' as const,
        at: new Date(job.processedOn ?? Date.now()).toISOString(),
        sink: job.data.sinkName,
        deliveryId: job.data.deliveryId,
        jobId: String(job.id),
        attempt: job.attemptsMade,
        durationMs: Date.now() - (job.processedOn ?? Date.now()),
      });
      worker.on('completed', (job, result) => {
        const { orderId } = job.data;
        const entry: HistoryEntry = {
          ...base(job),
          outcome: result.outcome,
          ...(result.outcome === 'skipped' ? { reason: result.reason } : {}),
        };
        void record(orderId, [entry], result.outcome === 'delivered' ? buildEnvelope(job.data, known) : undefined);
      });
      worker.on('failed', (job, err) => {
        if (!job?.data?.orderId) return;
        // finishedOn is set only when the job is dead-lettered; otherwise `delay` is BullMQ's choice.
        const dead = job.finishedOn !== undefined;
        void record(job.data.orderId, [
          {
            ...base(job),
            outcome: dead ? 'dead-lettered' : 'failed',
            ...(err instanceof SinkError && err.status !== undefined ? { httpStatus: err.status } : {}),
            error: err.message,
            ...(dead ? {} : { nextRetryAt: new Date(Date.now() + job.delay).toISOString() }),
          },
        ]);
      });
    },
  };
}
