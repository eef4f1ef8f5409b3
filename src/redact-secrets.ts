/**
 * One rule for every place that shows data to a person (logs, the dashboard): a field whose name
 * says it holds a credential or a URL is censored, and so is any presigned URL found in a string,
 * whatever its field. MORI's presigned URLs (`downloadUrl`, `thumbnailImageUrl`, `originalImageUrl`,
 * `heatmapUrl`, `overlayUrl`, `archiveUrl`, `uploadUrl`, ...) are bearer secrets for an hour
 * (docs/mori-api.md, "Reading orders"); the rule does not depend on knowing their names.
 */
const SECRET_FIELD = /url$|token|secret|signature|authorization|cookie|password/i;

/** A URL carrying a signing parameter (S3, GCS, Azure SAS): the whole URL is the credential. */
const PRESIGNED_URL =
  /https?:\/\/[^\s"'<>]+[?&](?:X-Amz-Signature|X-Amz-Credential|X-Goog-Signature|Signature|sig)=[^\s"'<>]*/gi;

export const REDACTED = '[redacted]';

/**
 * A URL as it may be recorded (a trace span, a message): scheme, host and path only. Credentials
 * and the query string go, because that is where tokens and presigned signatures live.
 */
export function urlWithoutSecrets(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** A string with every presigned URL in it replaced. */
export function scrubPresignedUrls(text: string): string {
  return text.includes('://') ? text.replace(PRESIGNED_URL, REDACTED) : text;
}

const isPlain = (v: object): boolean =>
  Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null;

/**
 * A copy with secret fields and presigned URLs censored. Walks plain objects and arrays only (at
 * most `depth` levels): class instances (a request, an Error) are left to their own serializers.
 */
export function redactSecrets(value: unknown, depth = 8): unknown {
  if (typeof value === 'string') return scrubPresignedUrls(value);
  if (!value || typeof value !== 'object' || depth === 0 || !isPlain(value)) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretField(k) && v !== null && typeof v !== 'object' ? REDACTED : redactSecrets(v, depth - 1);
  }
  return out;
}
