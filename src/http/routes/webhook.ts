import type { Redis } from '../../redis.js';
import { MAX_JSON_DEPTH, scanJson } from '../../webhook/scan-json.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import type { OrderHistory } from '../../history/order-history.js';
import type { Metrics } from '../../metrics.js';
import { intakeKey } from '../../keys.js';
import { enqueueEvent } from '../../webhook/enqueue-event.js';
import type { Intake } from '../../webhook/intake.js';
import { CURRENT_EVENT_TYPE, LEGACY_EVENT_TYPE } from '../../webhook/event-schema.js';
import { normalizeEvent } from '../../webhook/normalize-event.js';
import { verifySignature, type SignatureResult } from '../../webhook/verify-signature.js';
import { unsignedLimitOptions } from '../rate-limit.js';
import { createSpentBudgets } from '../spent-budgets.js';
import { errorBody, ok } from '../reply.js';

export interface WebhookRouteDeps {
  config: Config;
  /** Where accepted events are recorded (src/webhook/intake.ts). */
  intake: Intake;
  /** The intake's own connection: a replica wait (REDIS_WAIT_REPLICAS) must follow its writes. */
  redis: Redis;
  metrics: Metrics;
  /** Counts the duplicates answered, for the order's timeline; first deliveries cost it nothing. */
  history: Pick<OrderHistory, 'countDuplicate'>;
}

type Outcome = 'accepted' | 'duplicate' | 'ignored' | 'rejected';

interface WebhookState {
  /** The body parsed during the compact-JSON signature attempt, reused by the handler. */
  parsed?: { value: unknown } | { error: string };
  outcome?: Outcome;
  eventType?: string;
  eventId?: string;
  orderId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    webhook?: WebhookState;
  }
}

function parseJson(raw: Buffer): NonNullable<WebhookState['parsed']> {
  try {
    return { value: JSON.parse(raw.toString('utf8')) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Metric label for an event type: the real type for the two families we know, `other` otherwise. */
function typeLabel(eventType: string | undefined): string {
  if (eventType === undefined) return 'none';
  return CURRENT_EVENT_TYPE.test(eventType) || LEGACY_EVENT_TYPE.test(eventType) ? eventType : 'other';
}

/**
 * POST {WEBHOOK_PATH}: an encapsulated plugin with its own raw-body parser, so the signature is
 * checked over the exact bytes MORI sent (docs/field-notes.md pain 1). The route only orchestrates:
 * verify → rate-limit unsigned traffic → validate → enqueue.
 */
export async function webhookRoute(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  const { config, intake, metrics } = deps;
  const intakeStream = intakeKey(config.REDIS_PREFIX);
  const secrets = config.MORI_WEBHOOK_SECRET;
  const verifying = secrets.length > 0;

  // Declared up front (Fastify, "Decorators"); each request that reaches the checks gets its own state.
  app.decorateRequest('webhook', undefined);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: config.WEBHOOK_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );

  // The unsigned-traffic budget (src/http/rate-limit.ts). Three places, so that garbage counts
  // too: a request without any signature header is turned away at once while its client is over
  // the budget (no parsing, no HMAC); a request whose signature failed is counted after the check;
  // and one refused before the check (413, 415, malformed) is counted as it leaves.
  // Once the store says a client is over, the rest of its window is answered from spent-budgets.ts.
  const unsignedLimit = app.createRateLimit(unsignedLimitOptions(config));
  const spent = createSpentBudgets();
  const overBudget = async (request: FastifyRequest, reply: FastifyReply, increment: boolean): Promise<boolean> => {
    const now = Date.now();
    let retryAfterS = spent.retryAfterS(request.ip, now);
    if (retryAfterS === undefined) {
      const verdict = await unsignedLimit(request, { increment });
      // Counting this request, over means past the budget; only looking, it means the budget is spent.
      if (verdict.isAllowed || !(increment ? verdict.isExceeded : verdict.remaining === 0)) return false;
      retryAfterS = verdict.ttlInSeconds;
      // One line per client and window: the refusals themselves are logged at debug (build-server.ts).
      if (spent.spend(request.ip, now, verdict.ttl)) {
        request.log.warn({ ip: request.ip, retryAfterS }, 'a client spent its budget for unsigned requests');
      }
    }
    const err = new AppError('RATE_LIMITED', `too many requests without a valid signature; retry in ${retryAfterS} s`);
    request.rejection = err;
    await reply.code(err.statusCode).header('retry-after', String(retryAfterS)).send(errorBody(err));
    return true;
  };
  const hasSignatureHeader = (request: FastifyRequest) =>
    request.headers['x-moribiz-signature'] !== undefined || request.headers['x-mori-signature'] !== undefined;

  /** The signature check over the raw bytes, with one retry over the compact form; counted by result. */
  const verify = (raw: Buffer, request: FastifyRequest, state: WebhookState): SignatureResult => {
    let result = verifySignature(raw, request.headers, secrets);
    if (result.ok) {
      metrics.signatureChecks.inc({ result: 'raw' });
    } else if (result.reason === 'mismatch') {
      // MORI signs JSON.stringify(payload). A proxy that re-indents the body breaks the raw check;
      // one second attempt over the compact form keeps events flowing, and the `compact` counter
      // makes the rewriting visible instead of silently tolerated. Only a body with whitespace
      // between tokens can have been re-indented, and only a shallow one is parsed: a forged
      // compact body costs one HMAC, and a 10,000-deep one never reaches JSON.stringify.
      const shape = scanJson(raw);
      if (shape.spaced && shape.depth <= MAX_JSON_DEPTH) {
        const parsed = parseJson(raw);
        state.parsed = parsed;
        if ('value' in parsed) {
          const compact = Buffer.from(JSON.stringify(parsed.value), 'utf8');
          if (!compact.equals(raw)) result = verifySignature(compact, request.headers, secrets);
        }
      }
      metrics.signatureChecks.inc({ result: result.ok ? 'compact' : 'mismatch' });
    } else {
      metrics.signatureChecks.inc({ result: result.reason });
    }
    return result;
  };

  // Everything runs in the handler rather than in hooks: each async hook costs the hot path a
  // promise and a turn of Fastify's hook runner, and the order below is the whole story.
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = request.body;
    // A bodiless POST, refused before any check: counted as garbage when it leaves (onResponse).
    if (!Buffer.isBuffer(raw)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    const state: WebhookState = {};
    request.webhook = state;
    if (verifying) {
      const signature = verify(raw, request, state);
      if (!signature.ok) {
        if (await overBudget(request, reply, true)) return reply;
        if (signature.reason === 'missing') {
          throw new AppError(
            'SIGNATURE_MISSING',
            'X-MoriBiz-Signature (or legacy X-Mori-Signature) header is required',
          );
        }
        throw new AppError('SIGNATURE_INVALID', 'the signature does not match the body for any configured secret');
      }
    }
    if (!state.parsed && scanJson(raw).depth > MAX_JSON_DEPTH) {
      throw new AppError(
        'INVALID_PAYLOAD',
        `the body nests deeper than ${MAX_JSON_DEPTH} levels; MORI's events nest three`,
      );
    }
    const parsed = state.parsed ?? parseJson(raw);
    if ('error' in parsed) {
      throw new AppError('INVALID_JSON', `the body is not valid JSON: ${parsed.error}`);
    }
    const normalized = normalizeEvent(parsed.value);
    if (normalized.kind === 'ignored') {
      state.outcome = 'ignored';
      state.eventType = normalized.eventType;
      request.log.warn(
        { eventType: normalized.eventType.slice(0, 128) },
        'ignored an event type this receiver does not handle',
      );
      return reply.send(
        ok(`event type ${normalized.eventType} is not handled; ignored`, {
          eventId: normalized.eventId,
          duplicate: false,
          ignored: true,
        }),
      );
    }
    const { event } = normalized;
    state.eventType = event.eventType;
    state.eventId = event.eventId;
    state.orderId = event.orderId;
    const outcome = await enqueueEvent(intake, event, {
      deadlineMs: config.WEBHOOK_ENQUEUE_TIMEOUT_MS,
      receivedAt: new Date(),
      replicaWait: {
        client: deps.redis,
        key: intakeStream,
        replicas: config.REDIS_WAIT_REPLICAS,
        timeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
      },
    });
    state.outcome = outcome;
    const duplicate = outcome === 'duplicate';
    // Not awaited: the answer does not wait on the count, and a lost count loses nothing else.
    if (duplicate) {
      deps.history
        .countDuplicate(event.orderId, event.eventId)
        .catch((err: unknown) => request.log.warn({ err: (err as Error).message }, 'could not count a duplicate'));
    }
    return reply.send(
      ok(duplicate ? 'duplicate event; already received' : 'event received', { eventId: event.eventId, duplicate }),
    );
  };

  app.post(config.WEBHOOK_PATH, {
    bodyLimit: config.WEBHOOK_BODY_LIMIT,
    // Callback style, not async: a signed request passes with one header lookup and no promise.
    onRequest: (request, reply, done) => {
      if (!verifying || hasSignatureHeader(request)) return done();
      overBudget(request, reply, false).then((refused) => {
        if (!refused) done();
      }, done);
    },
    onResponse: (request, reply, done) => {
      const state = request.webhook;
      const outcome: Outcome = request.rejection ? 'rejected' : (state?.outcome ?? 'rejected');
      metrics.webhookEvents.inc({ outcome, event_type: typeLabel(state?.eventType) });
      if (request.rejection) metrics.webhookRejections.inc({ code: request.rejection.code });
      metrics.webhookDuration.observe({ outcome }, reply.elapsedTime / 1000);
      const refusedBeforeCheck = state === undefined && reply.statusCode >= 400 && reply.statusCode !== 429;
      if (verifying && refusedBeforeCheck && spent.retryAfterS(request.ip, Date.now()) === undefined) {
        unsignedLimit(request).then(() => done(), done);
      } else done();
    },
    handler,
  });
}
