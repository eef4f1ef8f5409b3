import { z } from 'zod';
import { orderIdSchema } from '../orders/order-id.js';

/** Event ids become Redis dedupe keys: UUIDs and similar tokens only. */
const EVENT_ID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;
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
