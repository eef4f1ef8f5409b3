import { pino, type Logger, type LoggerOptions } from 'pino';
import { REDACTED, redactSecrets, scrubPresignedUrls } from './redact-secrets.js';

/**
 * Request headers that carry credentials, censored by path: the raw request is not plain data, so
 * the field rule below does not walk it.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-moribiz-signature"]',
  'req.headers["x-mori-signature"]',
  'req.headers["webhook-signature"]',
  'req.headers.cookie',
];

/** An error as pino's standard serializer writes it, with presigned URLs scrubbed from its text. */
function serializeError(err: Error): Record<string, unknown> {
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack'] as const)
    if (typeof out[key] === 'string') out[key] = scrubPresignedUrls(out[key]);
  return out;
}

/**
 * Every line's own fields go through the one secret rule (src/redact-secrets.ts): credential and
 * URL fields censored, presigned URLs scrubbed from any string. The rule first reads the fields
 * without copying them and copies only a line that has something to censor, so the per-request
 * line (ids, numbers, a status) costs a look at a few keys.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'mori-webhook-receiver' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: serializeError },
    formatters: { log: (fields) => redactSecrets(fields) as Record<string, unknown> },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

/** Lines are written once this many bytes are waiting (a dozen request lines)... */
const WRITE_AT_BYTES = 4096;
/** ...or after this long, whichever comes first: a line is never more than this late. */
const WRITE_EVERY_MS = 250;

/**
 * Logs go to stdout, unless a stdout sink owns it: then to stderr, so the sink's stream carries
 * envelopes only and a consumer never has to tell the two apart. Writes are asynchronous and
 * gathered: one write call per 4 KiB or 250 ms instead of one per line (a CPU profile under
 * `npm run bench` put ~9 % of the receiver's time in per-line writes). pino writes what is waiting
 * synchronously when the process exits, so a shutdown or a crash loses nothing; a SIGKILL can lose
 * the last 250 ms.
 */
export function createLogger(level: string, { stdoutIsTaken = false }: { stdoutIsTaken?: boolean } = {}): Logger {
  return pino(
    loggerOptions(level),
    pino.destination({
      dest: stdoutIsTaken ? 2 : 1,
      sync: false,
      minLength: WRITE_AT_BYTES,
      periodicFlush: WRITE_EVERY_MS,
    }),
  );
}

/**
 * Pretty (one coloured line per entry) when a person reads it: LOG_FORMAT=pretty, or `auto` with the
 * log stream on a terminal outside production. JSON otherwise: in the container (NODE_ENV=production,
 * no TTY) and wherever a program reads the logs.
 */
export function usePrettyLogs(
  format: 'auto' | 'pretty' | 'json',
  isTty: boolean,
  nodeEnv: string | undefined,
): boolean {
  if (format !== 'auto') return format === 'pretty';
  return isTty && nodeEnv !== 'production';
}

/**
 * The same logger (fields, redaction), written by pino-pretty. Loaded only when asked for, so the
 * JSON path (production) never pays for its modules.
 */
export async function createPrettyLogger(
  level: string,
  { stdoutIsTaken = false, colorize = false }: { stdoutIsTaken?: boolean; colorize?: boolean } = {},
): Promise<Logger> {
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({
    destination: stdoutIsTaken ? 2 : 1,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
  return pino(loggerOptions(level), stream);
}

export type { Logger };
