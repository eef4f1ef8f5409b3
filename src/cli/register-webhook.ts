import type { CliContext } from './io.js';
import { webhooks } from './webhooks.js';

export const REGISTER_WEBHOOK_HELP = `register-webhook --url <public https URL of this receiver's webhook path> [--name NAME]
  The same as \`webhooks create\`: registers the URL with MORI and prints the secret MORI shows once,
  ready for MORI_WEBHOOK_SECRET.`;

/** Kept for the guides and scripts that already name it. */
export function registerWebhook(ctx: CliContext): Promise<number> {
  return webhooks({ ...ctx, args: ['create', ...ctx.args] });
}
