import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BullMQOtel } from 'bullmq-otel';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from './config.js';
import { REDACTED, scrubPresignedUrls, urlWithoutSecrets } from './redact-secrets.js';
import type { SpanAttributes, Tracing } from './tracing.js';

/** The service's name in traces unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names it. */
const SERVICE_NAME = 'mori-webhook-receiver';

/** Probes and scrapes arrive every few seconds: a trace each would bury the webhooks. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const pathOf = (url: string): string => url.split('?')[0]!;

function present(attributes: SpanAttributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined));
}

/** What the webhook route learnt (src/http/routes/webhook.ts) goes on the request span before it ends. */
function annotateRequestSpan(request: FastifyRequest): void {
  const span = request.opentelemetry().span;
  const w = request.webhook;
  if (!span || (!w && !request.rejection)) return;
  span.setAttributes(
    present({
      'mori.event_id': w?.eventId,
      'mori.order_id': w?.orderId,
      'mori.event_type': w?.eventType?.slice(0, 128),
      'mori.outcome': request.rejection ? 'rejected' : w?.outcome,
      'mori.rejection_code': request.rejection?.code,
    }),
  );
}

function endWithError(span: Span, err: unknown): void {
  // Our error messages never carry a secret (src/redact-secrets.ts); a presigned URL is scrubbed anyway.
  const message = scrubPresignedUrls(err instanceof Error ? err.message : String(err));
  span.recordException({ name: err instanceof Error ? err.name : 'Error', message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * Starts the OpenTelemetry Node SDK for traces; exporter, endpoint, protocol, sampler and batch
 * delays come from the standard OTEL_* variables, read by the SDK itself. Metrics stay on
 * /metrics and logs on stdout: no OTel meter or logger is set up.
 */
export function startOtelTracing(role: Config['ROLE']): Tracing {
  const undici = new UndiciInstrumentation({
    // url.full would hold a presigned download URL's signature or a sink URL's token: the
    // recorded URL is scheme, host and path only (src/redact-secrets.ts).
    startSpanHook: (request) => {
      const url = new URL(request.path, request.origin);
      return { 'url.full': urlWithoutSecrets(url), 'url.query': url.search ? REDACTED : '' };
    },
  });
  const fastify = new FastifyOtelInstrumentation({
    ignorePaths: ({ url }) => UNTRACED_PATHS.has(pathOf(url)),
    // One request span and one handler span per webhook; a span per hook (rate limit, signature
    // check) would triple every trace for little news.
    instrumentHooks: false,
    requestHook: (span, request) => span.setAttribute('url.path', pathOf(request.url)),
  });
  const sdk = new NodeSDK({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': SERVICE_NAME, 'mori.role': role })),
    instrumentations: [undici, fastify],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const tracer = trace.getTracer(SERVICE_NAME);

  const fastifyPlugin: FastifyPluginAsync = async (app) => {
    await app.register(fastify.plugin());
    // Instance-level onSend hooks run before the route-level one that ends the request span.
    app.addHook('onSend', async (request, _reply, payload) => {
      annotateRequestSpan(request);
      return payload;
    });
  };
  // Applies to the whole server, like @fastify/otel's own plugin, instead of an encapsulated child.
  Object.assign(fastifyPlugin, { [Symbol.for('skip-override')]: true });

  return {
    bullmq: new BullMQOtel({ tracerName: SERVICE_NAME }),
    fastifyPlugin,
    inSpan: (name, attributes, work) =>
      tracer.startActiveSpan(name, { attributes: present(attributes) }, async (span) => {
        try {
          return await work((more) => span.setAttributes(present(more)));
        } catch (err) {
          endWithError(span, err);
          throw err;
        } finally {
          span.end();
        }
      }),
    annotate: (attributes) => trace.getActiveSpan()?.setAttributes(present(attributes)),
    shutdown: () => sdk.shutdown(),
  };
}
