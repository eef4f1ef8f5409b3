import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { normalizeEvent } from '../../src/webhook/normalize-event.js';
import { thrownBy } from '../helpers/rejection-of.js';

const refusal = (body: unknown) => thrownBy(() => normalizeEvent(body), AppError);

describe('normalizeEvent', () => {
  it('maps a current-generation event', () => {
    const out = normalizeEvent({
      eventId: 'e1',
      eventType: 'order.watermarkEmbed.failed',
      occurredAt: '2026-01-01T00:00:00Z',
      data: { orderId: '9007199254740993', extra: 1 },
    });
    expect(out).toEqual({
      kind: 'event',
      event: {
        eventId: 'e1',
        eventIdDerived: false,
        eventType: 'order.watermarkEmbed.failed',
        orderId: '9007199254740993',
        occurredAt: '2026-01-01T00:00:00Z',
        generation: 'current',
      },
    });
  });

  it('accepts a future order type in the current family', () => {
    const out = normalizeEvent({ eventId: 'e1', eventType: 'order.videoGuard.completed', data: { orderId: '1' } });
    expect(out.kind).toBe('event');
  });

  it('prefers data.orderId over a top-level orderId in the legacy generation', () => {
    const out = normalizeEvent({ eventId: 'e', eventType: 'ORDER.PROCESSED', orderId: '1', data: { orderId: '2' } });
    expect(out.kind === 'event' && out.event.orderId).toBe('2');
  });

  it('derives the event id from the canonical form when none is given: key order and layout do not matter, content does', () => {
    const id = (body: unknown) => {
      const out = normalizeEvent(body);
      return out.kind === 'event' ? out.event.eventId : undefined;
    };
    const event = { eventType: 'ORDER.PROCESSED', orderId: '1', data: { status: 'complete', n: 1 } };
    const a = normalizeEvent(event);
    expect(a.kind === 'event' && a.event.eventIdDerived).toBe(true);
    expect(id({ data: { n: 1, status: 'complete' }, orderId: '1', eventType: 'ORDER.PROCESSED' })).toBe(id(event));
    expect(id({ ...event, orderId: '2' })).not.toBe(id(event));
  });

  it.each(['order.antiAi.started', 'user.created', 'ORDER.CREATED', 'order.antiAi', 'Order.antiAi.completed'])(
    'ignores the event type %s',
    (eventType) => {
      expect(normalizeEvent({ eventType, eventId: 'x' })).toEqual({ kind: 'ignored', eventType, eventId: 'x' });
    },
  );

  it('names the field when the order id is an unsafe integer', () => {
    const err = refusal({ eventType: 'order.antiAi.completed', data: { orderId: 2 ** 53 } });
    expect(err.code).toBe('INVALID_PAYLOAD');
    expect(err.propertyName).toBe('data.orderId');
    expect(err.message).toContain('safe integer');
  });

  it('names the field when data is missing', () => {
    expect(refusal({ eventType: 'order.antiAi.completed' }).propertyName).toBe('data');
  });
});
