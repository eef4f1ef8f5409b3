import { inject } from 'vitest';
import { readOrderHistory, type OrderTimeline } from '../../src/history/read-order-history.js';
import { buildTestServer, testPrefix, type TestServer } from './build-test-server.js';
import { startCaptureServer, type CaptureServer } from './capture-server.js';
import { eventually } from './eventually.js';
import { startFakeMori, type FakeMori } from './fake-mori.js';
import { startTestWorker, type TestWorker } from './start-test-worker.js';

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

export interface AdminPipeline {
  env: Record<string, string>;
  server: TestServer;
  worker: TestWorker;
  mori: FakeMori;
  /** The http sink `crm`'s receiver. */
  capture: CaptureServer;
  post(event: Record<string, unknown>): Promise<number>;
  /** What the order history holds for an order, read as the pages read it. */
  timeline(orderId: string): Promise<OrderTimeline | undefined>;
  /** Waits until the sink `crm` has `count` attempts of the order in its history. */
  attempts(orderId: string, count: number): Promise<OrderTimeline>;
  /** Stops the worker early (close() then leaves it); idempotent. */
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** The receiver with the dashboard on, its worker, a fake MORI and one http sink, on one test prefix. */
export async function startAdminPipeline(env: Record<string, string> = {}): Promise<AdminPipeline> {
  const mori = await startFakeMori();
  const capture = await startCaptureServer();
  const shared = {
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: testPrefix(),
    MORI_API_BASE_URL: mori.url,
    MORI_API_TOKEN: mori.token,
    ADMIN_TOKEN,
    SINKS: JSON.stringify([
      {
        type: 'http',
        name: 'crm',
        url: capture.url,
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        timeoutMs: 2000,
      },
    ]),
    ...env,
  };
  const server = await buildTestServer({ ...shared, ROLE: 'api' });
  const worker = await startTestWorker(shared);
  let workerClosed: Promise<void> | undefined;
  const stopWorker = () => (workerClosed ??= worker.close());
  const timeline = (orderId: string) => readOrderHistory(server.producer, shared.REDIS_PREFIX, orderId);
  return {
    env: shared,
    server,
    worker,
    mori,
    capture,
    post: async (event) => (await server.postSigned(JSON.stringify(event))).statusCode,
    timeline,
    attempts: (orderId, count) =>
      eventually(
        async () => {
          const t = await timeline(orderId);
          return t && t.entries.filter((e) => e.kind === 'attempt').length >= count && t;
        },
        { what: `${count} attempts of order ${orderId} in its history` },
      ),
    stopWorker,
    close: async () => {
      await stopWorker();
      await server.close();
      await capture.close();
      await mori.close();
    },
  };
}
