#!/usr/bin/env node
import { ConfigError } from '../config.js';
import { ENQUEUE_ORDER_HELP, enqueueOrder } from './enqueue-order.js';
import { UsageError, type CliContext } from './io.js';
import { MOCK_MORI_HELP, mockMori } from './mock-mori.js';
import { RECOVER_HELP, recover } from './recover.js';
import { REGISTER_WEBHOOK_HELP, registerWebhook } from './register-webhook.js';
import { REPLAY_HELP, replay } from './replay.js';
import { SEND_TEST_EVENT_HELP, sendTestEvent } from './send-test-event.js';
import { STATUS_HELP, status } from './status.js';
import { WEBHOOKS_HELP, webhooks } from './webhooks.js';

const HELP = `mori-webhook <command> [options]   (reads the same environment as the service)

${SEND_TEST_EVENT_HELP}

${MOCK_MORI_HELP}

${REPLAY_HELP}

${ENQUEUE_ORDER_HELP}

${REGISTER_WEBHOOK_HELP}

${WEBHOOKS_HELP}

${RECOVER_HELP}

${STATUS_HELP}`;

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

const COMMANDS: Record<string, (ctx: CliContext) => Promise<number>> = {
  'send-test-event': sendTestEvent,
  'mock-mori': (ctx) => mockMori(ctx, stop.signal),
  replay,
  'enqueue-order': enqueueOrder,
  'register-webhook': registerWebhook,
  webhooks,
  recover,
  status,
};

const [name, ...args] = process.argv.slice(2);
const command = name ? COMMANDS[name] : undefined;
if (!command) {
  process.stdout.write(`${HELP}\n`);
  process.exit(name === undefined || name === 'help' || name === '--help' ? 0 : 2);
}
const ctx: CliContext = {
  args,
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
try {
  process.exitCode = await command(ctx);
} catch (err) {
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    ctx.err(`${name}: ${(err as Error).message}`);
    process.exitCode = 2;
  } else {
    ctx.err(`${name}: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
