import { z } from 'zod';
import { MoriApiError, type MoriClient } from './mori-client.js';

/**
 * MORI's webhook management and delivery log (docs/mori-api.md, "Webhooks"), for the command-line
 * tool: list, create, delete, read a webhook's delivery log, and ask MORI to resend FAILED events.
 */
const webhookId = z.union([z.number().int(), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)]).transform(String);

const webhookSchema = z.looseObject({
  id: webhookId,
  name: z.string().nullish(),
  url: z.string(),
  isActive: z.boolean().nullish(),
  isTest: z.boolean().nullish(),
  lastSentAt: z.string().nullish(),
});
const listSchema = z.object({ data: z.looseObject({ webhooks: z.array(webhookSchema) }) });
const createdSchema = z.object({
  data: z.looseObject({ id: webhookId, name: z.string().nullish(), secret: z.string().min(1) }),
});

const deliverySchema = z.looseObject({
  id: z.union([z.number().int(), z.string()]).transform(String),
  eventId: z.string().nullish(),
  eventType: z.string().nullish(),
  status: z.string(),
  retries: z.number().nullish(),
  lastSentAt: z.string().nullish(),
  createdAt: z.string(),
});
const eventsSchema = z.object({
  data: z.object({
    events: z.array(deliverySchema),
    pagination: z.looseObject({ totalPages: z.number().int().min(0) }),
  }),
});
const retryFailedSchema = z.object({
  data: z.looseObject({
    total: z.number().int().min(0),
    succeeded: z.number().int().min(0),
    failed: z.number().int().min(0),
  }),
});

export type Webhook = z.output<typeof webhookSchema>;
export type WebhookDelivery = z.output<typeof deliverySchema>;
export type RetryFailedResult = z.output<typeof retryFailedSchema>['data'];

/** The delivery log's largest page we ask for; MORI documents no maximum for it. */
const EVENTS_PAGE_SIZE = 100;

function parse<T extends z.ZodType>(schema: T, json: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MoriApiError(
      'invalid-response',
      `MORI's answer to ${what} is malformed: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

const base = '/api/v2/orders/webhooks';

export function createWebhooksApi(mori: Pick<MoriClient, 'request'>) {
  return {
    async list(): Promise<Webhook[]> {
      return (await this.listWithClock()).webhooks;
    },

    /** The list and MORI's clock at the answer (its `Date` header): `doctor` reads both from one call. */
    async listWithClock(): Promise<{ webhooks: Webhook[]; moriDate: string | undefined }> {
      const { json, date } = await mori.request('GET', base, `GET ${base}`, 'webhook list');
      return { webhooks: parse(listSchema, json, 'the webhook list').data.webhooks, moriDate: date };
    },

    async create(input: { name: string; url: string; isTest: boolean }): Promise<{ id: string; secret: string }> {
      const { json } = await mori.request('POST', base, `POST ${base}`, 'webhook registration', input);
      const { id, secret } = parse(createdSchema, json, 'the webhook registration').data;
      return { id, secret };
    },

    async remove(id: string): Promise<void> {
      await mori.request(
        'DELETE',
        `${base}/${encodeURIComponent(id)}`,
        `DELETE ${base}/{id}`,
        `deletion of webhook ${id}`,
      );
    },

    /** Every page of one webhook's delivery log (no status filter or order exists at MORI: we read it all). */
    async *deliveries(id: string): AsyncGenerator<WebhookDelivery> {
      for (let page = 1; ; page++) {
        const path = `${base}/${encodeURIComponent(id)}/events?page=${page}&limit=${EVENTS_PAGE_SIZE}`;
        const { json } = await mori.request(
          'GET',
          path,
          `GET ${base}/{id}/events`,
          `delivery log page ${page} of webhook ${id}`,
        );
        const { events, pagination } = parse(eventsSchema, json, 'the delivery log').data;
        yield* events;
        if (events.length === 0 || page >= pagination.totalPages) return;
      }
    },

    /** Asks MORI to resend FAILED events of these calendar days (at most 7 apart; at most 50 per call). */
    async retryFailed(id: string, fromDate: string, toDate: string): Promise<RetryFailedResult> {
      const path = `${base}/${encodeURIComponent(id)}/events/retry-failed`;
      const { json } = await mori.request(
        'POST',
        path,
        `POST ${base}/{id}/events/retry-failed`,
        `resend of webhook ${id}'s failed events`,
        { fromDate, toDate },
      );
      return parse(retryFailedSchema, json, 'the resend').data;
    },
  };
}

export type WebhooksApi = ReturnType<typeof createWebhooksApi>;
