import type { z } from 'zod';
import { AppError } from '../errors.js';
import type { EventGeneration } from '../orders/order-status.js';
import { deriveEventId } from './derive-event-id.js';
import {
  CURRENT_EVENT_TYPE,
  LEGACY_EVENT_TYPE,
  currentEventSchema,
  envelopeSchema,
  legacyEventSchema,
} from './event-schema.js';

/** A MORI event reduced to what the pipeline needs, whichever generation it came in. */
export interface MoriEvent {
  eventId: string;
  /** True when the body had no eventId and the id was derived from its bytes. */
  eventIdDerived: boolean;
  eventType: string;
  orderId: string;
  occurredAt: string | null;
  generation: EventGeneration;
}

export type NormalizedEvent =
  { kind: 'event'; event: MoriEvent } | { kind: 'ignored'; eventType: string; eventId: string | null };

function invalid(error: z.ZodError): AppError {
  const issue = error.issues[0];
  const propertyName = issue?.path.map(String).join('.') || '(body)';
  return new AppError('INVALID_PAYLOAD', `${propertyName}: ${issue?.message ?? 'invalid'}`, { propertyName });
}

/**
 * Validates a parsed body and maps it to a MoriEvent. Event types outside both families come back
 * as `ignored` (MORI adds types over time; they must not be retried). Throws INVALID_PAYLOAD,
 * naming the first offending field, for bodies that claim a family but break its rules.
 */
export function normalizeEvent(body: unknown): NormalizedEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('INVALID_PAYLOAD', '(body): must be a JSON object', { propertyName: '(body)' });
  }
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) throw invalid(envelope.error);
  const { eventType } = envelope.data;

  const generation = CURRENT_EVENT_TYPE.test(eventType)
    ? 'current'
    : LEGACY_EVENT_TYPE.test(eventType)
      ? 'legacy'
      : undefined;
  if (generation !== undefined) {
    const parsed = generation === 'current' ? currentEventSchema.safeParse(body) : legacyEventSchema.safeParse(body);
    if (!parsed.success) throw invalid(parsed.error);
    const e = parsed.data;
    // Current events carry the id in data.orderId; legacy ones there or at the top level (the
    // refinement in legacyEventSchema guarantees one of the two).
    const orderId = (e.data?.orderId ?? ('orderId' in e ? e.orderId : undefined)) as string;
    return {
      kind: 'event',
      event: {
        eventId: e.eventId ?? deriveEventId(body),
        eventIdDerived: e.eventId === undefined,
        eventType,
        orderId,
        occurredAt: e.occurredAt ?? null,
        generation,
      },
    };
  }
  const eventId = (body as { eventId?: unknown }).eventId;
  return { kind: 'ignored', eventType, eventId: typeof eventId === 'string' ? eventId : null };
}
