import { z } from 'zod';

/**
 * Order ids are decimal strings of up to 19 digits (CONTRACT.md A), beyond JavaScript's safe
 * integers, so they stay strings. We accept a slightly wider safe set (letters, digits, _ and -,
 * at most 64) so a future id format still works, while nothing that could bend a URL path or a
 * Redis key ever gets through. A JSON number is accepted only as a non-negative safe integer:
 * anything larger was already rounded by JSON.parse and would name the wrong order.
 */
export const ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const orderIdSchema = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string' && ORDER_ID_PATTERN.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  let message = 'is required: the order id as a string of digits';
  if (typeof value === 'string') message = 'must be 1 to 64 letters, digits, "_" or "-" (MORI sends decimal strings)';
  else if (typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value)) {
    message = 'is a number beyond the safe integer range (2^53 - 1), so it was already rounded; send the order id as a string';
  } else if (value !== undefined) message = 'must be a string of digits (or a non-negative safe integer)';
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
});

/** Event ids become Redis dedupe keys: UUIDs and similar tokens only. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;
const eventIdSchema = z.string().regex(EVENT_ID_PATTERN, 'must be 1 to 128 letters, digits or "._~-"');

const timestamp = z.string().max(64, 'must be at most 64 characters');

export const CURRENT_EVENT_TYPE = /^order\.[A-Za-z][A-Za-z0-9]{0,63}\.(completed|failed)$/;
export const LEGACY_EVENT_TYPE = /^ORDER(\.[A-Z][A-Z0-9_]{0,63})?\.PROCESSED$/;

/** Current generation: `order.<orderType>.<completed|failed>`. Unknown keys are kept (`looseObject`). */
export const currentEventSchema = z.looseObject({
  eventId: eventIdSchema.optional(),
  eventType: z.string().regex(CURRENT_EVENT_TYPE),
  occurredAt: timestamp.optional(),
  data: z.looseObject({
    orderId: orderIdSchema,
    status: z.string().max(64).optional(),
  }),
});

/** Legacy generation: `ORDER.PROCESSED` / `ORDER.<FEATURE>.PROCESSED`; order id in data or at the top. */
export const legacyEventSchema = z
  .looseObject({
    eventId: eventIdSchema.optional(),
    eventType: z.string().regex(LEGACY_EVENT_TYPE),
    occurredAt: timestamp.optional(),
    orderId: orderIdSchema.optional(),
    data: z.looseObject({ orderId: orderIdSchema.optional() }).optional(),
  })
  .refine((e) => e.data?.orderId !== undefined || e.orderId !== undefined, {
    message: 'is required (in data.orderId or at the top level)',
    path: ['data', 'orderId'],
  });

/** Just enough to tell which generation a body claims to be, or that it is some other event. */
export const envelopeSchema = z.looseObject({
  eventType: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
});

export type CurrentEvent = z.output<typeof currentEventSchema>;
export type LegacyEvent = z.output<typeof legacyEventSchema>;
