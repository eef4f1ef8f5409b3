// The yardsticks `npm run bench` measures the service against, each in its own process like the
// service: `bare` is Fastify answering every POST with a fixed body (what the framework costs);
// `naive` is the first receiver a user would write (Fastify, SET NX for the dedupe mark, then
// BullMQ's queue.add; no logging, no signature check, no metrics).
// Usage: node bench/peer-receiver.mjs bare|naive <port> [redis-url]
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const [mode, port, redisUrl] = process.argv.slice(2);
const app = Fastify({ logger: false });

if (mode === 'bare') {
  app.post('/webhooks/mori', async () => ({ success: true }));
} else if (mode === 'naive') {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('naive-events', { connection: redis, prefix: `{naive-${randomUUID().slice(0, 8)}}` });
  app.post('/webhooks/mori', async (request) => {
    const event = request.body;
    const fresh = await redis.set(`naive:seen:${event.eventId}`, '1', 'EX', 7 * 24 * 3600, 'NX');
    if (fresh) await queue.add('fetch-order', { eventId: event.eventId, orderId: event.data.orderId });
    return { success: true, duplicate: !fresh };
  });
} else {
  throw new Error(`usage: peer-receiver.mjs bare|naive <port> [redis-url]; got ${mode}`);
}

await app.listen({ port: Number(port), host: '127.0.0.1' });
process.once('SIGTERM', () => process.exit(0));
