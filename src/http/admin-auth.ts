import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { html, sendPage, wantsHtml } from './html-page.js';
import { errorBody } from './reply.js';

/** Failed admin logins allowed per client IP per minute (issue 16: a guesser's budget, not an owner's). */
const FAILED_LOGINS_PER_MINUTE = 10;
const REALM = 'Basic realm="mori-webhook-receiver admin", charset="UTF-8"';

/** Constant-time comparison of two strings of any length (hashing first equalises the lengths). */
export function sameSecret(given: string, expected: string): boolean {
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

function refuse(request: FastifyRequest, reply: FastifyReply, err: AppError, retryAfterS?: number): FastifyReply {
  request.rejection = err;
  if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS));
  else reply.header('www-authenticate', REALM);
  if (!wantsHtml(request)) return reply.code(err.statusCode).send(errorBody(err));
  const body =
    retryAfterS === undefined
      ? html`<h1>Sign-in needed</h1>
          <p>The admin pages take ADMIN_TOKEN as the password (any user name).</p>`
      : html`<h1>Too many wrong passwords</h1>
          <p>Sign-in from this address is paused. Try again in ${retryAfterS} s, with ADMIN_TOKEN as the password.</p>`;
  return sendPage(reply, err.statusCode, retryAfterS === undefined ? 'Sign-in needed' : 'Try again later', body);
}

/**
 * The admin routes' gate: ADMIN_TOKEN as a Bearer token or as the Basic-auth password. Only wrong
 * credentials count against the client's budget: a browser asks for each new path once without
 * credentials before it sends them, so a request without any gets the 401 challenge for free
 * (issue 16). Past the budget a wrong try answers 429 with Retry-After; the right token always passes.
 */
export function installAdminAuth(app: FastifyInstance, token: string): void {
  const limiter = app.createRateLimit({
    max: FAILED_LOGINS_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (r) => `admin:${r.ip}`,
  });
  app.addHook('onRequest', async (request, reply) => {
    const given = presentedToken(request);
    if (given !== undefined && sameSecret(given, token)) return;
    const needed = new AppError(
      'UNAUTHORIZED',
      'the admin routes need ADMIN_TOKEN as a Bearer token or Basic password',
    );
    if (given === undefined) return refuse(request, reply, needed);
    const limit = await limiter(request);
    if (limit.isAllowed || !limit.isExceeded) return refuse(request, reply, needed);
    const err = new AppError('RATE_LIMITED', `too many failed admin logins; try again in ${limit.ttlInSeconds} s`);
    return refuse(request, reply, err, limit.ttlInSeconds);
  });
}
