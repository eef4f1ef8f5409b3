import { z } from 'zod';
import { FINAL_STATUSES, ORDER_TYPES } from '../orders/order-status.js';
import { DETECTION_STATUSES, VERDICTS } from '../orders/summary.js';

/**
 * Which orders a sink receives, matched against the envelope's `data.summary`: every listed field
 * must match (AND), each list names the values accepted (OR). An order without the field (an
 * antiAi order and `verdicts`) does not match a filter that names it.
 */
const filterSchema = z
  .object({
    orderTypes: z.array(z.enum(ORDER_TYPES)).min(1).optional(),
    statuses: z.array(z.enum(FINAL_STATUSES)).min(1).optional(),
    verdicts: z.array(z.enum(VERDICTS)).min(1).optional(),
    detectionStatuses: z.array(z.enum(DETECTION_STATUSES)).min(1).optional(),
    errorCodes: z
      .array(z.string().regex(/^[A-Z0-9_]{1,64}$/, 'MORI error codes are UPPER_SNAKE_CASE'))
      .min(1)
      .optional(),
    /** aiDetection orders whose probability of being AI-made is at least this. */
    minProbability: z.number().min(0).max(1).optional(),
  })
  .strict();

/** Sink names become part of Redis keys and metric labels, so they are kept short and plain. */
const name = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only, at most 64');

/** Standard Webhooks symmetric secret: `whsec_` + base64 of 24 to 64 random bytes (docs/field-notes.md). */
const standardWebhooksSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'expected whsec_ followed by base64')
  .refine((s) => {
    const bytes = Buffer.from(s.slice('whsec_'.length), 'base64').length;
    return bytes >= 24 && bytes <= 64;
  }, 'the base64 part must decode to 24 to 64 bytes');

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'not a valid header name');
const reservedHeaders = new Set([
  'content-type',
  'content-length',
  'host',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

const httpSink = z
  .object({
    type: z.literal('http'),
    name,
    filter: filterSchema.optional(),
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).refine((u) => {
      const parsed = new URL(u);
      return parsed.username === '' && parsed.password === '';
    }, 'credentials in the URL are never sent (undici drops them); put them in headers, e.g. {"authorization": "Basic <base64 of user:password>"}'),
    secret: standardWebhooksSecret.optional(),
    headers: z
      .record(headerName, z.string().max(4096))
      .refine(
        (h) => Object.keys(h).every((k) => !reservedHeaders.has(k.toLowerCase())),
        'may not set content-type, host or webhook-* headers',
      )
      .optional(),
    /** Standard Webhooks advises senders to wait 15–30 s; 10 s keeps a stuck receiver from holding workers. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Offer HTTP/2 when the receiver's TLS endpoint supports it; HTTP/1.1 otherwise (docs/decisions.md, "HTTP/2"). */
    http2: z.boolean().default(false),
  })
  .strict();

const fileSink = z
  .object({ type: z.literal('file'), name, filter: filterSchema.optional(), path: z.string().min(1) })
  .strict();

const redisStreamSink = z
  .object({
    type: z.literal('redis-stream'),
    name,
    filter: filterSchema.optional(),
    stream: z.string().regex(/^[A-Za-z0-9{}:_.-]{1,200}$/, 'letters, digits and {}:_.- only'),
    maxLen: z.number().int().min(1).default(100_000),
    url: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  })
  .strict();

const archiveSink = z
  .object({
    type: z.literal('archive'),
    name,
    filter: filterSchema.optional(),
    dir: z.string().min(1),
    /** Files downloaded at once per delivery. */
    concurrency: z.number().int().min(1).max(16).default(4),
    /** Per download: headers and each pause in the body (a large file may take longer in all). */
    timeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
  })
  .strict();

const stdoutSink = z.object({ type: z.literal('stdout'), name, filter: filterSchema.optional() }).strict();

export const sinkConfigSchema = z.discriminatedUnion('type', [
  httpSink,
  fileSink,
  redisStreamSink,
  stdoutSink,
  archiveSink,
]);
export type SinkConfig = z.output<typeof sinkConfigSchema>;
export type SinkFilter = z.output<typeof filterSchema>;

export const sinkListSchema = z
  .array(sinkConfigSchema)
  .min(1, 'configure at least one sink')
  .superRefine((sinks, ctx) => {
    const seen = new Set<string>();
    sinks.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate sink name "${s.name}"` });
      seen.add(s.name);
    });
  });
