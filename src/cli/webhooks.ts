import { parseArgs } from 'node:util';
import { parseEnv } from '../config.js';
import { createWebhooksApi, type WebhooksApi } from '../mori/webhooks-api.js';
import { UsageError, type CliContext } from './io.js';
import { moriForCli } from './mori-for-cli.js';

export const WEBHOOKS_HELP = `webhooks list | create --url URL [--name NAME] [--test] | delete <id> | events <id> [--status FAILED]
  MORI's webhooks for this account (MORI_API_TOKEN): list them with when MORI last sent to each;
  register this receiver's public URL (prints the secret MORI shows once); delete one; or read a
  webhook's delivery log (every page), optionally only events in one status
  (PENDING, SENT, RETRYING, FAILED). Rotating the secret: create a second webhook, set both secrets
  in MORI_WEBHOOK_SECRET, then delete the old webhook.`;

const STATUSES = ['PENDING', 'SENT', 'RETRYING', 'FAILED'];

/** The webhooks API the command-line tool uses, from the environment. */
function webhooksApiFor(ctx: CliContext): { api: WebhooksApi; close: () => Promise<void>; token: string } {
  const { mori, token } = moriForCli(ctx.env);
  return { api: createWebhooksApi(mori), close: () => mori.close(), token };
}

function checkedUrl(value: string | undefined): string {
  if (!value) throw new UsageError('--url is required');
  let target: URL;
  try {
    target = new URL(value);
  } catch {
    throw new UsageError(`--url is not a URL: ${value}`);
  }
  if (target.protocol !== 'https:' && target.hostname !== 'localhost' && target.hostname !== '127.0.0.1') {
    throw new UsageError('--url must be https (MORI posts to a public https address)');
  }
  return target.toString();
}

async function create(ctx: CliContext, api: WebhooksApi, args: string[], token: string): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      name: { type: 'string', default: 'mori-webhook-receiver' },
      test: { type: 'boolean' },
    },
  });
  const url = checkedUrl(values.url);
  // A test key may only create test webhooks (docs/mori-api.md, "Webhooks").
  const isTest = values.test ?? token.startsWith('sk_test_');
  const { id, secret } = await api.create({ name: values.name, url, isTest });
  const existing = parseEnv(ctx.env).MORI_WEBHOOK_SECRET ?? [];
  ctx.out(`registered webhook ${id} → ${url}${isTest ? ' (test events only)' : ''}`);
  ctx.out('MORI shows this secret once. Put this line in .env (or your secret store):');
  // During a rotation both secrets must verify until the old webhook is deleted.
  ctx.out(`MORI_WEBHOOK_SECRET=${[secret, ...existing].join(',')}`);
  return 0;
}

export async function webhooks(ctx: CliContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  if (!sub || !['list', 'create', 'delete', 'events'].includes(sub))
    throw new UsageError(`say what to do: ${WEBHOOKS_HELP.split('\n')[0]}`);
  const { api, close, token } = webhooksApiFor(ctx);
  try {
    if (sub === 'create') return await create(ctx, api, rest, token);
    if (sub === 'list') {
      const hooks = await api.list();
      if (hooks.length === 0) ctx.out('no webhooks registered');
      for (const h of hooks) {
        ctx.out(
          `${h.id}\t${h.isActive === false ? 'inactive' : 'active'}\t${h.isTest ? 'test' : 'live'}\tlast sent ${h.lastSentAt ?? 'never'}\t${h.url}\t${h.name ?? ''}`,
        );
      }
      return 0;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { status: { type: 'string' } },
    });
    const id = positionals[0];
    if (!id) throw new UsageError(`${sub} needs a webhook id (see: webhooks list)`);
    if (sub === 'delete') {
      await api.remove(id);
      ctx.out(`deleted webhook ${id}`);
      return 0;
    }
    const status = values.status?.toUpperCase();
    if (status !== undefined && !STATUSES.includes(status))
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
    let shown = 0;
    for await (const d of api.deliveries(id)) {
      if (status && d.status !== status) continue;
      shown += 1;
      ctx.out(
        `${d.id}\t${d.status}\tretries ${d.retries ?? 0}\tcreated ${d.createdAt}\tlast sent ${d.lastSentAt ?? 'never'}\t${d.eventType ?? ''}\t${d.eventId ?? ''}`,
      );
    }
    ctx.out(`${shown} event(s)${status ? ` in status ${status}` : ''}`);
    return 0;
  } finally {
    await close();
  }
}
