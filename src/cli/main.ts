#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError } from '../config.js';
import { DEAD_LETTERS_HELP, deadLetters } from './dead-letters.js';
import { DOCTOR_HELP, doctor } from './doctor.js';
import { DELIVERIES_HELP, deliveries } from './deliveries.js';
import { ENQUEUE_ORDER_HELP, enqueueOrder } from './enqueue-order.js';
import { UsageError, type CliContext } from './io.js';
import { MOCK_MORI_HELP, mockMori } from './mock-mori.js';
import { RECOVER_HELP, recover } from './recover.js';
import { REGISTER_WEBHOOK_HELP, registerWebhook } from './register-webhook.js';
import { REPLAY_HELP, replay } from './replay.js';
import { SEND_TEST_EVENT_HELP, sendTestEvent } from './send-test-event.js';
import { STATUS_HELP, status } from './status.js';
import { WEBHOOKS_HELP, webhooks } from './webhooks.js';

const HELP = `mori-webhook <command> [options]   (reads the same environment as the service, and .env)
  mori-webhook <command> --help   one command's help;   mori-webhook --version

${SEND_TEST_EVENT_HELP}

${MOCK_MORI_HELP}

${REPLAY_HELP}

${DEAD_LETTERS_HELP}

${ENQUEUE_ORDER_HELP}

${REGISTER_WEBHOOK_HELP}

${WEBHOOKS_HELP}

${RECOVER_HELP}

${STATUS_HELP}

${DOCTOR_HELP}

${DELIVERIES_HELP}`;

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
// `status | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const COMMANDS: Record<string, { run: (ctx: CliContext) => Promise<number>; help: string }> = {
  'send-test-event': { run: sendTestEvent, help: SEND_TEST_EVENT_HELP },
  'mock-mori': { run: (ctx) => mockMori(ctx, stop.signal), help: MOCK_MORI_HELP },
  replay: { run: replay, help: REPLAY_HELP },
  'dead-letters': { run: deadLetters, help: DEAD_LETTERS_HELP },
  'enqueue-order': { run: enqueueOrder, help: ENQUEUE_ORDER_HELP },
  'register-webhook': { run: registerWebhook, help: REGISTER_WEBHOOK_HELP },
  webhooks: { run: webhooks, help: WEBHOOKS_HELP },
  recover: { run: recover, help: RECOVER_HELP },
  status: { run: (ctx) => status(ctx, stop.signal), help: STATUS_HELP },
  doctor: { run: doctor, help: DOCTOR_HELP },
  deliveries: { run: deliveries, help: DELIVERIES_HELP },
};

/** This package's version: the nearest package.json above this file that is ours. */
function version(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    const file = new URL('package.json', dir);
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'mori-webhook-receiver' && pkg.version) return pkg.version;
  }
  return 'unknown';
}
const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The same environment as the service: a `.env` in the working directory fills in what the
 * environment does not set (as `npm start` reads it with --env-file-if-exists).
 */
function environment(): NodeJS.ProcessEnv {
  if (!existsSync('.env')) return process.env;
  return { ...parseEnv(readFileSync('.env', 'utf8')), ...process.env };
}

/** The message, and what caused it: `fetch failed` alone says nothing of the address or the reason. */
function describe(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 4; cur = cur.cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    parts.push(typeof code === 'string' && !cur.message.includes(code) ? `${cur.message} (${code})` : cur.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(e);
}

const [name, ...args] = process.argv.slice(2);
if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
  const topic = name === 'help' ? args[0] : undefined;
  out(topic && COMMANDS[topic] ? COMMANDS[topic].help : HELP);
  process.exit(0);
}
if (name === '--version' || name === '-V' || name === 'version') {
  out(`mori-webhook ${version()}`);
  process.exit(0);
}
const command = COMMANDS[name];
if (!command) {
  err(
    `mori-webhook: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}. Run 'mori-webhook --help' for more.`,
  );
  process.exit(2);
}
if (args.includes('--help') || args.includes('-h')) {
  out(command.help);
  process.exit(0);
}
const ctx: CliContext = { args, env: environment(), out, err };
try {
  process.exitCode = await command.run(ctx);
} catch (e) {
  const usage =
    e instanceof UsageError || e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  err(`${name}: ${describe(e)}`);
  if (usage) err(`usage: ${command.help.split('\n')[0]}`);
  process.exitCode = usage ? 2 : 1;
}
