import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parseEnv } from '../config.js';
import { ORDER_TYPES } from '../orders/order-status.js';
import { UsageError, type CliContext } from './io.js';
import { buildSampleEvent, buildSampleOrder, randomOrderIdOfType, type OrderType } from './sample-orders.js';

export const SEND_TEST_EVENT_HELP = `send-test-event [--url URL] [--type antiAi|watermarkEmbed|watermarkExtract|aiDetection]
                [--generation current|legacy] [--failed] [--order-id ID] [--event-id ID] [--secret S] [--unsigned]
  Builds a realistic MORI event, signs it as MORI does (hex HMAC-SHA256 of the body with
  MORI_WEBHOOK_SECRET) and POSTs it; prints the answer. Default URL: this receiver's own
  (http://127.0.0.1:$PORT$WEBHOOK_PATH).`;

export async function sendTestEvent(ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: {
      url: { type: 'string' },
      type: { type: 'string', default: 'antiAi' },
      generation: { type: 'string', default: 'current' },
      failed: { type: 'boolean', default: false },
      'order-id': { type: 'string' },
      'event-id': { type: 'string' },
      secret: { type: 'string' },
      unsigned: { type: 'boolean', default: false },
    },
  });
  if (!(ORDER_TYPES as readonly string[]).includes(values.type))
    throw new UsageError(`--type must be one of ${ORDER_TYPES.join(', ')}`);
  if (values.generation !== 'current' && values.generation !== 'legacy')
    throw new UsageError('--generation must be current or legacy');
  const env = parseEnv(ctx.env);
  const secret = values.secret ?? env.MORI_WEBHOOK_SECRET?.[0];
  if (!secret && !values.unsigned)
    throw new UsageError('no secret: set MORI_WEBHOOK_SECRET, pass --secret, or --unsigned');

  const order = buildSampleOrder(values['order-id'] ?? randomOrderIdOfType(values.type as OrderType, values.failed), {
    type: values.type as OrderType,
    status: values.failed ? 'failed' : 'complete',
  });
  const event = buildSampleEvent(order, values.generation, values['event-id']);
  const body = JSON.stringify(event);
  const url = values.url ?? `http://127.0.0.1:${env.PORT}${env.WEBHOOK_PATH}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!values.unsigned && secret) {
    const header = values.generation === 'legacy' ? 'x-mori-signature' : 'x-moribiz-signature';
    headers[header] = createHmac('sha256', secret).update(body).digest('hex');
  }
  ctx.out(`POST ${url}`);
  ctx.out(body);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`POST ${url} failed`, { cause: err });
  }
  ctx.out(`→ ${res.status} ${await res.text()}`);
  return res.ok ? 0 : 1;
}
