import { createHmac } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readOrderHistory, recentOrders } from '../../history/read-order-history.js';
import { ORDER_ID_PATTERN } from '../../orders/order-id.js';
import { DELIVERIES_QUEUE, EVENTS_QUEUE } from '../../queues.js';
import type { Redis } from '../../redis.js';
import { replayFailedJob } from '../../replay-failed-job.js';
import { sameSecret } from '../admin-auth.js';
import { sendPage } from '../html-page.js';
import { messageBody, orderTimelineBody, ordersIndexBody } from '../order-pages.js';

export interface AdminOrdersDeps {
  /** Read for the pages; written only by a replay, which exists only when the dashboard is not read-only. */
  redis: Redis;
  keyPrefix: string;
  token: string;
  queues: Queue[];
  readOnly: boolean;
}

/** Orders on the index page: a screenful; any other order is one search away. */
const RECENT_ORDERS = 50;

const shortId = (value: string) => (value.length > 80 ? `${value.slice(0, 80)}…` : value);

function invalidId(reply: FastifyReply, value: string): FastifyReply {
  return sendPage(
    reply,
    400,
    'Not an order id',
    messageBody(
      'Not an order id',
      `"${shortId(value)}" is not an order id: MORI's are decimal strings; this receiver takes 1 to 64 letters, digits, "_" or "-".`,
    ),
  );
}

/**
 * A browser sends Basic credentials on its own, so a form that writes must tell our own page from
 * another site's: the browser's Sec-Fetch-Site and Origin say where the form was, and the per-page
 * token (an HMAC of the order id under ADMIN_TOKEN) proves the poster could read this page.
 */
function crossSiteReason(request: FastifyRequest, expectedToken: string): string | undefined {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${site}`;
  const origin = request.headers.origin;
  if (origin !== undefined) {
    // Both through URL, so a default port (:80, :443) is dropped on either side alike.
    const hostOf = (url: string) => (URL.canParse(url) ? new URL(url).host : undefined);
    if (hostOf(origin) !== hostOf(`${request.protocol}://${request.host}`)) return 'the Origin is another site';
  }
  const token = (request.body as Record<string, unknown> | undefined)?.token;
  if (typeof token !== 'string' || !sameSecret(token, expectedToken)) return 'the form token is missing or wrong';
  return undefined;
}

/** /admin/orders (index and search) and /admin/orders/<orderId> (the timeline), behind the admin gate. */
export async function adminOrdersRoutes(app: FastifyInstance, deps: AdminOrdersDeps): Promise<void> {
  const { redis, keyPrefix: prefix } = deps;
  const replayToken = (orderId: string) =>
    createHmac('sha256', deps.token).update(`replay:${orderId}`).digest('base64url');

  // These are pages: whatever goes wrong is told as a page, never as a stack.
  app.setErrorHandler((err, request, reply) => {
    request.log.error({ err }, 'admin page failed');
    return sendPage(reply, 503, 'Unavailable', messageBody('Unavailable', 'Redis did not answer; try again shortly.'));
  });

  app.get('/admin/orders', async (request, reply) => {
    const q = (request.query as { q?: unknown }).q;
    if (typeof q === 'string' && q.trim() !== '') {
      const id = q.trim();
      if (!ORDER_ID_PATTERN.test(id)) return invalidId(reply, id);
      return reply.redirect(`/admin/orders/${id}`, 303);
    }
    return sendPage(reply, 200, 'Orders', ordersIndexBody(await recentOrders(redis, prefix, RECENT_ORDERS)));
  });

  app.get('/admin/orders/:orderId', async (request, reply) => {
    const { orderId } = request.params as { orderId: string };
    if (!ORDER_ID_PATTERN.test(orderId)) return invalidId(reply, orderId);
    const timeline = await readOrderHistory(redis, prefix, orderId);
    if (!timeline) {
      return sendPage(
        reply,
        404,
        'Unknown order',
        messageBody(
          'Unknown order',
          `Nothing is known of order ${orderId}: it was never received here, or it is older than the dedupe window.`,
        ),
      );
    }
    const replayed = Number((request.query as { replayed?: unknown }).replayed);
    return sendPage(
      reply,
      200,
      `Order ${orderId}`,
      orderTimelineBody(timeline, {
        replayToken: deps.readOnly ? undefined : replayToken(orderId),
        replayed: Number.isSafeInteger(replayed) && replayed >= 0 ? replayed : undefined,
      }),
    );
  });

  if (deps.readOnly) return;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  const queueNamed = (name: string) => deps.queues.find((q) => q.name === name);

  app.post('/admin/orders/:orderId/replay', async (request, reply) => {
    const { orderId } = request.params as { orderId: string };
    if (!ORDER_ID_PATTERN.test(orderId)) return invalidId(reply, orderId);
    const refused = crossSiteReason(request, replayToken(orderId));
    if (refused) {
      request.log.warn({ orderId, reason: refused }, 'refused a replay that did not come from the order page');
      return sendPage(
        reply,
        403,
        'Refused',
        messageBody('Refused', `Replay refused: ${refused}. Use the order page's button.`),
      );
    }
    const timeline = await readOrderHistory(redis, prefix, orderId);
    const jobs = new Map<string, Set<string>>([
      [EVENTS_QUEUE, new Set()],
      [DELIVERIES_QUEUE, new Set()],
    ]);
    for (const e of timeline?.entries ?? []) {
      if (e.kind === 'received') jobs.get(EVENTS_QUEUE)!.add(e.jobId);
      if (e.kind === 'attempt') jobs.get(DELIVERIES_QUEUE)!.add(e.jobId);
    }
    let replayed = 0;
    for (const [name, ids] of jobs) {
      const queue = queueNamed(name);
      for (const id of queue ? ids : []) {
        const job = await queue!.getJob(id);
        if (!job || !(await job.isFailed())) continue;
        await replayFailedJob(job);
        replayed++;
      }
    }
    request.log.info({ orderId, replayed }, 'replayed the dead letters of an order from its page');
    return reply.redirect(`/admin/orders/${orderId}?replayed=${replayed}`, 303);
  });
}
