import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeOrder, verdictFor } from '../../src/orders/summary.js';

const fixtures = join(import.meta.dirname, '../fixtures/mori');
/** The `data` of one of MORI's documented example bodies (test/fixtures/mori/index.json says whence). */
const example = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(fixtures, file), 'utf8')).data;

describe("summarizeOrder, on MORI's documented v3 details", () => {
  it('antiAi complete: its output files and expiry', () => {
    expect(summarizeOrder(example('v3-detail/antiAiComplete.json'))).toEqual({
      type: 'antiAi',
      status: 'complete',
      final: true,
      files: [
        { fileId: '21', fileName: 'cat.png' },
        { fileId: '22', fileName: 'dog.png' },
      ],
      expiresAt: '2026-11-07T01:00:00.000Z',
    });
  });

  it('watermarkEmbed complete: every embedded text once', () => {
    expect(summarizeOrder(example('v3-detail/watermarkEmbedV3.json'))).toMatchObject({
      type: 'watermarkEmbed',
      final: true,
      watermarkTexts: ['MORI', 'MORI-2'],
      files: [
        { fileId: '201', fileName: 'logo.png' },
        { fileId: '202', fileName: 'logo.png' },
      ],
    });
  });

  it("watermarkEmbed failed: MORI's error code and message", () => {
    const s = summarizeOrder(example('v3-detail/watermarkEmbedFailed.json'));
    expect(s).toMatchObject({ status: 'failed', final: true, errorCode: 'WATERMARK_FILE_CORRUPTED', files: [] });
    expect(s.errorMessage).toMatch(/./);
  });

  it('watermarkExtract detected: status, found and text', () => {
    expect(summarizeOrder(example('v3-detail/watermarkExtractV3Detected.json'))).toMatchObject({
      detectionStatus: 'detected',
      watermarkFound: true,
      watermarkText: 'MORI',
    });
  });

  it("aiDetection: MORI's own verdict wins over the band", () => {
    expect(summarizeOrder(example('v3-detail/aiDetectionComplete.json'))).toMatchObject({
      verdict: 'uncertain_real',
      probability: 0.31,
    });
  });

  it('expired: final, no files', () => {
    expect(summarizeOrder(example('v3-detail/antiAiExpired.json'))).toMatchObject({
      status: 'expired',
      final: true,
      files: [],
    });
  });

  it.each(['antiAiInProgress', 'watermarkEmbedPending', 'watermarkExtractPending'])('%s is not final', (name) => {
    expect(summarizeOrder(example(`v3-detail/${name}.json`)).final).toBe(false);
  });
});

describe('summarizeOrder, on v2 details and older shapes', () => {
  it('aiDetection: the band from statusCode', () => {
    expect(summarizeOrder(example('v2-detail/aiDetection.json'))).toMatchObject({
      verdict: 'likely_ai',
      probability: 0.92,
      files: [],
      expiresAt: null,
    });
  });

  it('aiDetection without any band: the verdict is derived from the probability', () => {
    const { statusCode: _dropped, ...order } = example('v2-detail/aiDetection.json');
    expect(summarizeOrder({ ...order, probability: 0.5 })).toMatchObject({ verdict: 'uncertain_ai', probability: 0.5 });
  });

  it('watermarkExtract: statusCode detected', () => {
    expect(summarizeOrder(example('v2-detail/watermarkExtract.json'))).toMatchObject({
      detectionStatus: 'detected',
      watermarkFound: true,
      watermarkText: 'MORI-WTR-001',
    });
  });

  it('watermarkExtract with the older status "undetected" is a final, complete order', () => {
    const s = summarizeOrder({
      ...example('v2-detail/watermarkExtract.json'),
      status: 'undetected',
      statusCode: undefined,
      watermarkText: null,
    });
    expect(s).toMatchObject({
      status: 'complete',
      final: true,
      detectionStatus: 'undetected',
      watermarkFound: false,
      watermarkText: null,
    });
  });

  it('watermarkEmbed: the v2 watermarks list', () => {
    expect(summarizeOrder(example('v2-detail/watermarkEmbed.json')).watermarkTexts).toEqual([
      'MORI-WTR-001',
      'MORI-WTR-002',
    ]);
  });

  it.each([
    ['errors {errorCode, errorMessage}', { errors: { errorCode: 'PROCESSING_ERROR', errorMessage: 'boom' } }],
    ['error {code, message}', { error: { code: 'PROCESSING_ERROR', message: 'boom' } }],
    ['flat errorCode / errorMessage', { errorCode: 'PROCESSING_ERROR', errorMessage: 'boom' }],
  ])('failed with %s', (_, fields) => {
    expect(summarizeOrder({ type: 'antiAi', status: 'failed', errors: null, ...fields })).toMatchObject({
      errorCode: 'PROCESSING_ERROR',
      errorMessage: 'boom',
    });
  });

  it('carries test when the caller knows it, and only then', () => {
    expect(summarizeOrder(example('v2-detail/antiAi.json'), { test: true }).test).toBe(true);
    expect(summarizeOrder(example('v2-detail/antiAi.json'))).not.toHaveProperty('test');
  });
});

describe('verdictFor', () => {
  it.each([
    [0, 'likely_real'],
    [0.2499, 'likely_real'],
    [0.25, 'uncertain_real'],
    [0.5, 'uncertain_ai'],
    [0.75, 'likely_ai'],
    [1, 'likely_ai'],
  ] as const)('%f is %s', (p, v) => {
    expect(verdictFor(p)).toBe(v);
  });
});
