import { z } from 'zod';

/**
 * Order ids are decimal strings of up to 20 digits (docs/mori-api.md, "Reading orders"), beyond JavaScript's safe
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
    message =
      'is a number beyond the safe integer range (2^53 - 1), so it was already rounded; send the order id as a string';
  } else if (value !== undefined) message = 'must be a string of digits (or a non-negative safe integer)';
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
});
