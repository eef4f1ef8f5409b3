import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/logger.js';
import { redactSecrets, urlWithoutSecrets } from '../../src/redact-secrets.js';

const SIGNED = 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123456789abcdef';
const FIXTURES = join(import.meta.dirname, '../fixtures/mori');

/**
 * A MORI fixture with every https URL made presigned as MORI serves them: the documents shorten
 * the query (`?X-Amz-...`) or leave it out, and a shortened one is no signature the rule could know.
 */
function presignedFixture(file: string): unknown {
  const raw = readFileSync(join(FIXTURES, file), 'utf8');
  return JSON.parse(raw.replace(/"(https:\/\/[^"?]+)(\?[^"]*)?"/g, `"$1?${SIGNED}"`));
}

/** MORI's documented v3 AI-detection order. */
const order = (presignedFixture('v3-detail/aiDetectionComplete.json') as { data: Record<string, unknown> }).data;

/** Every fixture MORI's documents gave us: orders (v2, v3, pending, downloads), events, errors, webhooks. */
const fixtureFiles = readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The values a log must never show: any string under a field named …Url/…URL, and any https URL with a query. */
function presignedValues(value: unknown, key = ''): string[] {
  if (typeof value === 'string') {
    return /(Url|URL)$/.test(key) || /^https:\/\/[^?]+\?./.test(value) ? [value] : [];
  }
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => presignedValues(v, Array.isArray(value) ? key : k));
}

/** A logger with the service's options, writing into an array of lines. */
function capture(): { lines: string[]; log: pino.Logger } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().trim().split('\n'));
      done();
    },
  });
  return { lines, log: pino(loggerOptions('debug'), stream) };
}

describe('one secret rule for logs and the dashboard', () => {
  it('the fixture really carries presigned URLs in several fields', () => {
    expect(JSON.stringify(order).match(/X-Amz-Signature/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('censors every URL field of a v3 order by rule, whatever its name, and keeps the rest', () => {
    const out = redactSecrets({ order, nested: { deep: [{ archiveUrl: 'https://x/a.zip' }] } }) as any;
    expect(JSON.stringify(out)).not.toContain('X-Amz-Signature');
    expect(out.order.result.heatmapUrl).toBe('[redacted]');
    expect(out.order.thumbnailImageUrl).toBe('[redacted]');
    expect(out.nested.deep[0].archiveUrl).toBe('[redacted]');
    expect(out.order.result.probability).toBe(0.31);
    expect(out.order.orderName).toBe('photo.jpg');
  });

  it('scrubs a presigned URL found in any string, under any field', () => {
    expect(redactSecrets({ note: `see https://cdn.example/x.png?${SIGNED} now` })).toEqual({
      note: 'see [redacted] now',
    });
  });

  it('keeps every log path clean: fields, nested orders, error messages and stacks', () => {
    const { lines, log } = capture();
    log.info({ order }, 'an order');
    log.warn({ detail: { url: 'https://h/p', err: `fetch of https://cdn.example/a.png?${SIGNED} failed` } }, 'nested');
    log.error({ err: new Error(`MORI answered with https://cdn.example/b.png?${SIGNED}`) }, 'an error');
    log.info(
      { token: 'sk_live_abc', secret: 'whsec_x', headers: { authorization: 'Bearer sk_live_abc' } },
      'credentials',
    );
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).not.toMatch(/X-Amz-Signature|sk_live_abc|whsec_x/);
      expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(JSON.parse(lines[2]!).err).toMatchObject({ type: 'Error', message: 'MORI answered with [redacted]' });
    expect(JSON.parse(lines[0]!).order.result.probability).toBe(0.31);
  });
});

describe('every MORI fixture, its URLs presigned, through every log path', () => {
  it('finds the fixtures, presigned downloads and uploads among them', () => {
    expect(fixtureFiles).toEqual(expect.arrayContaining(['v2-detail/antiAi.json', 'v3-download/antiAi.json']));
    const values = fixtureFiles.flatMap((f) => presignedValues(presignedFixture(f)));
    expect(values.some((v) => v.includes('/out/'))).toBe(true);
    expect(values.some((v) => v.includes('/inputs/'))).toBe(true);
  });

  it.each(fixtureFiles)('%s: fields, nested objects, error messages and stacks show no presigned URL', (file) => {
    const fixture = presignedFixture(file);
    const text = JSON.stringify(fixture);
    const { lines, log } = capture();
    log.info({ order: fixture }, 'an order');
    log.warn({ detail: { body: fixture, err: `fetch failed: ${text}` } }, 'nested');
    log.error({ err: new Error(`MORI answered with ${text}`) }, 'an error');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(() => JSON.parse(line)).not.toThrow();
      for (const value of presignedValues(fixture)) expect(line, file).not.toContain(value);
    }
  });
});

describe('urlWithoutSecrets', () => {
  it.each([
    [`https://files.example.com/o/1/image.png?${SIGNED}`, 'https://files.example.com/o/1/image.png'],
    ['https://user:pass@sink.example.com:8443/hooks?token=abc#frag', 'https://sink.example.com:8443/hooks'],
    ['http://127.0.0.1:9000/api/v3/orders/123', 'http://127.0.0.1:9000/api/v3/orders/123'],
  ])('keeps scheme, host and path of %s', (url, expected) => {
    expect(urlWithoutSecrets(url)).toBe(expected);
    expect(urlWithoutSecrets(new URL(url))).toBe(expected);
  });
});
