import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { FETCH_ORDER_JOB, createEventsQueue, newEventJobId } from '../../src/queues.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori } from '../helpers/fake-mori.js';
import { startTestWorker } from '../helpers/start-test-worker.js';

const ORDER_ID = '12345678901234567890';

/**
 * Issue 7: a finished watermarkExtract reported in MORI's older form, `status: "detected"`, was
 * polled as not final until the pending budget ran out, and then dead-lettered.
 */
describe('issue 7: an extract order with the older status "detected"', () => {
  it.each(['detected', 'undetected'])(
    '(%s) is final: looked up once and delivered once, as completed',
    async (status) => {
      const mori = await startFakeMori();
      // The older form carries the outcome in the status alone, with no v3 result.
      mori.setOrder(finalOrder(ORDER_ID, 'watermarkExtract', { status, result: null }));
      const dir = mkdtempSync(join(tmpdir(), 'mori-issue-7-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'orders.jsonl');
      const prefix = testPrefix();
      const worker = await startTestWorker({
        REDIS_URL: inject('redisUrl'),
        REDIS_PREFIX: prefix,
        MORI_API_BASE_URL: mori.url,
        MORI_API_TOKEN: mori.token,
        SINKS: JSON.stringify([{ type: 'file', name: 'file', path: file }]),
      });
      onTestFinished(() => worker.close());
      const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
      const queue = createEventsQueue(connection, prefix);
      onTestFinished(async () => {
        await queue.close();
        connection.disconnect();
      });

      await queue.add(
        FETCH_ORDER_JOB,
        {
          eventId: 'e-1',
          eventType: 'order.watermarkExtract.completed',
          orderId: ORDER_ID,
          occurredAt: null,
          receivedAt: new Date().toISOString(),
          generation: 'current',
        },
        { jobId: newEventJobId() },
      );
      await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', { what: 'the delivery' });
      const [line, ...more] = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(more).toEqual([]);
      expect(line).toMatchObject({
        type: 'order.watermarkExtract.completed',
        data: {
          order: { status },
          summary: { status: 'complete', final: true, detectionStatus: status, watermarkFound: status === 'detected' },
        },
      });
      expect(mori.requestsFor(ORDER_ID)).toHaveLength(1);
    },
  );
});
