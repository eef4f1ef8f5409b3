import { afterEach, describe, expect, it } from 'vitest';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * Issue 10, point 6: events without an eventId deduped on their raw bytes, so one event re-indented
 * by a proxy 20 ways cost 20 jobs and 20 MORI look-ups.
 */
describe('issue 10: an event without an eventId, re-indented and reordered, is one job', () => {
  it('20 layouts of the same event queue one job; a different event queues another', async () => {
    server = await buildTestServer();
    const event = {
      eventType: 'ORDER.ANTI_AI.PROCESSED',
      occurredAt: '2026-03-12T10:05:00.000Z',
      data: { orderId: '1234567890123456789', status: 'complete' },
    };
    const layouts = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? JSON.stringify(event, null, i % 5)
        : JSON.stringify(
            {
              data: { status: 'complete', orderId: '1234567890123456789' },
              occurredAt: event.occurredAt,
              eventType: event.eventType,
            },
            null,
            i % 3,
          ),
    );
    expect(new Set(layouts).size).toBeGreaterThan(5);
    const answers = await Promise.all(layouts.map((body) => server!.postSigned(body)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.json().data.eventId)).size).toBe(1);
    expect(answers.filter((a) => a.json().data.duplicate === false)).toHaveLength(1);
    await server.postSigned(JSON.stringify({ ...event, data: { ...event.data, orderId: '1234567890123456790' } }));
    expect(await server.promote()).toBe(2);
    expect((await server.queue.getJobCounts('waiting')).waiting).toBe(2);
  });
});
