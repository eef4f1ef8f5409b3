import { describe, expect, it } from 'vitest';
import { buildEnvelope, deliveryIdFor, envelopeType, testModeOf } from '../../src/worker/envelope.js';

const event = { eventId: 'e', eventType: 'order.antiAi.completed', occurredAt: null, receivedAt: 'r' };

describe('deliveryIdFor', () => {
  it('is the same for the same order state and differs for any other', () => {
    const id = deliveryIdFor('1234567890123456789', 'complete', '2026-03-12T10:05:00.000Z');
    expect(id).toMatch(/^dlv_[0-9a-f]{32}$/);
    expect(deliveryIdFor('1234567890123456789', 'complete', '2026-03-12T10:05:00.000Z')).toBe(id);
    expect(deliveryIdFor('1234567890123456789', 'expired', '2026-03-12T10:05:00.000Z')).not.toBe(id);
    expect(deliveryIdFor('1234567890123456789', 'complete', '2026-03-12T10:05:00.001Z')).not.toBe(id);
    expect(deliveryIdFor('1234567890123456788', 'complete', '2026-03-12T10:05:00.000Z')).not.toBe(id);
  });
});

describe('envelopeType', () => {
  it.each([
    ['antiAi', 'complete', 'order.antiAi.completed'],
    ['aiDetection', 'failed', 'order.aiDetection.failed'],
    ['watermarkEmbed', 'expired', 'order.watermarkEmbed.expired'],
  ])('%s %s → %s', (type, status, expected) => {
    expect(envelopeType({ type, status })).toBe(expected);
  });

  it('names an older extract status (detected) as completed', () => {
    expect(
      buildEnvelope({ deliveryId: 'd', order: { type: 'watermarkExtract', status: 'detected' }, event }).type,
    ).toBe('order.watermarkExtract.completed');
  });
});

describe('buildEnvelope', () => {
  it("has exactly the contract's shape, with the order untouched and the summary beside it", () => {
    const order = { orderId: '1', type: 'antiAi', status: 'complete', updatedAt: 'u', extra: { a: 1 } };
    const copy = structuredClone(order);
    expect(
      buildEnvelope({ deliveryId: 'dlv_x', order, event }, { test: true }, new Date('2026-11-22T00:00:00Z')),
    ).toEqual({
      id: 'dlv_x',
      type: 'order.antiAi.completed',
      timestamp: '2026-11-22T00:00:00.000Z',
      data: {
        order: copy,
        summary: { type: 'antiAi', status: 'complete', final: true, files: [], expiresAt: null, test: true },
        event: { ...event, source: 'webhook' },
      },
    });
  });
});

describe('testModeOf', () => {
  it.each([
    ['sk_test_abc', true],
    ['sk_live_abc', false],
    ['demo-token', undefined],
  ])('%s → %s', (token, expected) => {
    expect(testModeOf(token)).toBe(expected);
  });
});
