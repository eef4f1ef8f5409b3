import { timingSafeEqual, createHash } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { redactSecrets } from '../../redact-secrets.js';
import { errorBody } from '../reply.js';

export const ADMIN_BASE_PATH = '/admin/queues';

/** Failed admin logins allowed per client IP per minute; a correct token is never limited. */
const FAILED_LOGINS_PER_MINUTE = 10;

/** Constant-time comparison of two strings of any length (hashing first equalises the lengths). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token from `Authorization: Bearer <token>`, or the password of Basic auth (for browsers). */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return undefined;
}

export interface AdminDeps {
  token: string;
  queues: Queue[];
  readOnly: boolean;
}

/**
 * Bull Board under /admin/queues, registered only when ADMIN_TOKEN is set. Every request, the UI's
 * static files included, must carry the token; wrong guesses are rate-limited per client IP.
 * Read-only unless ADMIN_READ_ONLY=false: Bull Board's clean and remove actions delete BullMQ's
 * dedupe keys (docs/field-notes.md "Dedupe"), so replays go through the `replay` command instead.
 */
export async function adminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const limiter = app.createRateLimit({
    max: FAILED_LOGINS_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (r) => `admin:${r.ip}`,
  });
  app.addHook('onRequest', async (request, reply) => {
    const token = presentedToken(request);
    if (token !== undefined && sameSecret(token, deps.token)) return;
    const limit = await limiter(request);
    const err =
      !limit.isAllowed && limit.isExceeded
        ? new AppError('RATE_LIMITED', 'too many failed admin logins; try again later')
        : new AppError('UNAUTHORIZED', 'the admin routes need ADMIN_TOKEN as a Bearer token or Basic password');
    request.rejection = err;
    return reply
      .code(err.statusCode)
      .header('www-authenticate', 'Basic realm="mori-webhook-receiver admin"')
      .send(errorBody(err));
  });

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
