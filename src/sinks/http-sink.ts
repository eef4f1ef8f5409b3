import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import { parseRetryAfter } from '../mori/backoff.js';
import type { SinkConfig } from './sink-config.js';
import { SinkError, type DeliveryEnvelope, type Sink } from './sink.js';

type HttpSinkConfig = Extract<SinkConfig, { type: 'http' }>;

/** The longest Retry-After a receiver may impose before we fall back to our own backoff. */
const RETRY_AFTER_CAP_MS = 3600_000;

/** The URL as it may appear in messages: no credentials, no query string (tokens live there). */
function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * POSTs the envelope as JSON. With a secret, signs it per Standard Webhooks using the
 * `standardwebhooks` package, afresh at every attempt: receivers reject timestamps older than
 * five minutes, so a signature made at enqueue time would fail every late retry. `webhook-id`
 * is the delivery id on every attempt, so the receiver can dedupe. Redirects are not followed
 * (a 3xx is a failure), which keeps a receiver from steering us to another address.
 */
export function createHttpSink(config: HttpSinkConfig): Sink {
  const url = new URL(config.url);
  const signer = config.secret ? new Webhook(config.secret) : undefined;
  const agent = new Agent({ connections: 8, keepAliveTimeout: 30_000 });
  const where = `sink "${config.name}" (${safeUrl(url)})`;

  return {
    name: config.name,
    type: 'http',
    async deliver(envelope: DeliveryEnvelope) {
      const body = JSON.stringify(envelope);
      const now = new Date();
      const headers: Record<string, string> = {
        ...config.headers,
        'content-type': 'application/json',
        'user-agent': 'mori-webhook-receiver',
        'webhook-id': envelope.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      };
      if (signer) headers['webhook-signature'] = signer.sign(envelope.id, now, body);
      let res: Awaited<ReturnType<Agent['request']>>;
      try {
        res = await agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(config.timeoutMs),
          headersTimeout: config.timeoutMs,
          bodyTimeout: config.timeoutMs,
        });
      } catch (err) {
        const e = err as { name?: string; code?: string; message?: string };
        const why = e.name === 'TimeoutError' || e.code?.endsWith('_TIMEOUT') ? `timed out after ${config.timeoutMs} ms` : `failed: ${e.code ?? e.message}`;
        throw new SinkError(config.name, `${where} ${why}`, { cause: err });
      }
      // Always drain the body so the keep-alive socket can be reused.
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return;
      throw new SinkError(config.name, `${where} answered ${res.statusCode}`, {
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now(), RETRY_AFTER_CAP_MS),
      });
    },
    close: () => agent.close(),
  };
}
