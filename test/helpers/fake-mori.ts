import type { AddressInfo } from 'node:net';
import { onTestFinished, TestRunner } from 'vitest';
import { createMockMori, type MockMori, type MockMoriOptions } from '../../src/cli/mock-mori.js';
import { buildSampleOrder, type OrderType } from '../../src/cli/sample-orders.js';

/**
 * MORI for tests: the simulator the CLI ships (src/cli/mock-mori.ts) on 127.0.0.1 and a free
 * port, serving only the orders a test sets (any other id is 404 ORDER_NOT_FOUND). Each order
 * can have a script: answers consumed one per look-up, then the order as set. Every request is
 * recorded.
 *
 *   const mori = await startFakeMori();
 *   mori.setOrder(order);                                   // served as {"data": order}
 *   mori.script(order.orderId, [{ status: 503 }, { status: 429, retryAfter: '1' }]);
 *   mori.script(order.orderId, [{ order: { ...order, status: 'inProgress' } }]);
 *   mori.script(order.orderId, [{ delayMs: 2000 }]);          // then the default
 *
 * Any of the simulator's options can be given; they override these defaults. Started inside a
 * test (or its beforeEach) it closes when that test finishes; started in a beforeAll there is no
 * test to wait for, so the suite closes it. close() may be called again: the simulator's is idempotent.
 */
export interface FakeMori extends MockMori {
  url: string;
  token: string;
}

export async function startFakeMori(options: Partial<MockMoriOptions> = {}): Promise<FakeMori> {
  const token = options.token ?? 'test-mori-token';
  const mori = createMockMori({ finishAfterMs: 0, unknownOrders: 'not-found', ...options, token });
  if (TestRunner.getCurrentTest()) onTestFinished(() => mori.close());
  await new Promise<void>((resolve) => mori.server.listen(0, '127.0.0.1', resolve));
  const { port } = mori.server.address() as AddressInfo;
  return Object.assign(mori, { url: `http://127.0.0.1:${port}`, token });
}

/** A final order of the given type, as MORI serves it, with every type-specific field. */
export function finalOrder(
  orderId: string,
  type: OrderType = 'antiAi',
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...buildSampleOrder(orderId, {
      type,
      status: 'complete',
      updatedAt: new Date('2026-03-12T10:05:00.000Z'),
      createdAt: new Date('2026-03-12T10:00:00.000Z'),
    }),
    ...overrides,
  };
}
