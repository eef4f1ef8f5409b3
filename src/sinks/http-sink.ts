import { Webhook } from 'standardwebhooks';
import { Agent, type buildConnector } from 'undici';
import { describeRequestFailure } from '../outbound/describe-request-failure.js';
import { parseRetryAfter } from '../outbound/backoff.js';
import type { SinkConfig } from './sink-config.js';
import { SinkError, type DeliveryEnvelope, type Sink } from './sink.js';

export type HttpSinkConfig = Extract<SinkConfig, { type: 'http' }>;

/** The longest Retry-After a receiver may impose before we fall back to our own backoff. */
const RETRY_AFTER_CAP_MS = 3600_000;

/** A receiver's answer is never read, only drained; this much is drained before we hang up. */
const DRAIN_LIMIT_BYTES = 64 * 1024;

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
export function createHttpSink(config: HttpSinkConfig, connect?: buildConnector.BuildOptions): Sink {
  const url = new URL(config.url);
  const signer = config.secret ? new Webhook(config.secret) : undefined;
  // HTTP/1.1 unless the sink asks for HTTP/2 (undici 8 would otherwise negotiate it over TLS for
  // every receiver): docs/decisions.md, "HTTP/2".
  const agent = new Agent({
    connections: 8,
    keepAliveTimeout: 30_000,
    allowH2: config.http2,
    ...(connect ? { connect } : {}),
  });
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
        const failure = describeRequestFailure(err);
        const why =
          failure.kind === 'timeout'
            ? `timed out after ${config.timeoutMs} ms`
            : `failed: ${failure.kind} (${failure.detail})`;
        throw new SinkError(config.name, `${where} ${why}`, { cause: err });
      }
      // Drain the body so the keep-alive socket can be reused; past DRAIN_LIMIT_BYTES undici closes
      // the connection instead of reading more (HTTP/1.1 and HTTP/2 alike).
      await res.body.dump({ limit: DRAIN_LIMIT_BYTES }).catch(() => undefined);
      if (res.statusCode >= 200 && res.statusCode < 300) return;
      throw new SinkError(config.name, `${where} answered ${res.statusCode}`, {
        status: res.statusCode,
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now(), RETRY_AFTER_CAP_MS),
      });
    },
    close: () => agent.close(),
  };
}
