import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from '../../redis.js';
import { redactSecrets } from '../../redact-secrets.js';
import { installAdminAuth } from '../admin-auth.js';
import { adminOrdersRoutes } from './admin-orders.js';

export const ADMIN_BASE_PATH = '/admin/queues';

export interface AdminDeps {
  token: string;
  queues: Queue[];
  readOnly: boolean;
  /** For the order pages: reads the order history, and the ledger. */
  redis: Redis;
  /** REDIS_PREFIX (not `prefix`, which Fastify's register would take as a route prefix). */
  keyPrefix: string;
}

/**
 * Bull Board under /admin/queues and the order pages under /admin/orders, registered only when
 * ADMIN_TOKEN is set. Every request, the UI's static files included, must carry the token; wrong
 * guesses are rate-limited per client IP (src/http/admin-auth.ts).
 * Read-only unless ADMIN_READ_ONLY=false: Bull Board's clean and remove actions delete BullMQ's
 * dedupe keys (docs/field-notes.md "Dedupe"), so replays go through the `replay` command instead.
 */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  installAdminAuth(app, deps.token);
  await app.register(adminOrdersRoutes, deps);

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_BASE_PATH);
  createBullBoard({
    queues: deps.queues.map((q) => {
      const adapter = new BullMQAdapter(q, { readOnlyMode: deps.readOnly, allowRetries: !deps.readOnly });
      adapter.setFormatter('data', (data) => redactSecrets(data));
      adapter.setFormatter('returnValue', (value) => redactSecrets(value));
      return adapter;
    }),
    serverAdapter,
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_BASE_PATH });
}
