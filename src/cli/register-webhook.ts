import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseEnv } from '../config.js';
import { UsageError, type CliContext } from './io.js';

export const REGISTER_WEBHOOK_HELP = `register-webhook --url <public https URL of this receiver's webhook path> [--name NAME]
  Registers the URL with MORI (POST /api/v2/orders/webhooks, with MORI_API_TOKEN) and prints the
  secret MORI issues. MORI shows it once: put it in MORI_WEBHOOK_SECRET straight away.`;

const answerSchema = z.object({
  data: z.object({ id: z.union([z.number(), z.string()]), name: z.string().optional(), secret: z.string().min(1) }),
});

export async function registerWebhook(ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: ctx.args,
    options: { url: { type: 'string' }, name: { type: 'string', default: 'mori-webhook-receiver' } },
  });
  if (!values.url) throw new UsageError('--url is required');
  let target: URL;
  try {
    target = new URL(values.url);
  } catch {
    throw new UsageError(`--url is not a URL: ${values.url}`);
  }
  if (target.protocol !== 'https:' && target.hostname !== 'localhost' && target.hostname !== '127.0.0.1') {
    throw new UsageError('--url must be https (MORI posts to a public https address)');
  }
  const env = parseEnv(ctx.env);
  if (!env.MORI_API_TOKEN) throw new UsageError('MORI_API_TOKEN is not set');

  const res = await fetch(`${env.MORI_API_BASE_URL}/api/v2/orders/webhooks`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${env.MORI_API_TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({ name: values.name, url: target.toString() }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    ctx.err(`MORI answered ${res.status}: ${text.slice(0, 500)}`);
    return 1;
  }
  const parsed = answerSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    ctx.err(`MORI's answer had no secret: ${text.slice(0, 500)}`);
    return 1;
  }
  const { id, secret } = parsed.data.data;
  const existing = env.MORI_WEBHOOK_SECRET ?? [];
  ctx.out(`registered webhook ${id} → ${target.toString()}`);
  ctx.out('MORI shows this secret once. Put this line in .env (or your secret store):');
  // During a rotation both secrets must verify until MORI signs with the new one only.
  ctx.out(`MORI_WEBHOOK_SECRET=${[secret, ...existing].join(',')}`);
  return 0;
}
