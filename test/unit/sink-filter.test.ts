import { describe, expect, it } from 'vitest';
import { summarizeOrder } from '../../src/orders/summary.js';
import { sinkConfigSchema, type SinkFilter } from '../../src/sinks/sink-config.js';
import { matchesFilter } from '../../src/sinks/sink-filter.js';

const antiAi = summarizeOrder({ type: 'antiAi', status: 'complete' });
const ai = (probability: number) => summarizeOrder({ type: 'aiDetection', status: 'complete', probability });
const extract = (detectionStatus: string) =>
  summarizeOrder({ type: 'watermarkExtract', status: 'complete', result: { detectionStatus } });
const failed = (errorCode: string) =>
  summarizeOrder({ type: 'antiAi', status: 'failed', errors: { errorCode, errorMessage: 'x' } });
/** A filter as SINKS would hold it, validated by the sink schema. */
const filter = (f: Record<string, unknown>): SinkFilter =>
  sinkConfigSchema.parse({ type: 'stdout', name: 'out', filter: f }).filter!;

describe('matchesFilter', () => {
  it('passes everything without a filter', () => {
    expect(matchesFilter(undefined, antiAi)).toBe(true);
    expect(matchesFilter({}, antiAi)).toBe(true);
  });

  it('checks order types and statuses together', () => {
    const f = filter({ orderTypes: ['aiDetection'], statuses: ['complete'] });
    expect(matchesFilter(f, ai(0.9))).toBe(true);
    expect(matchesFilter(f, summarizeOrder({ type: 'aiDetection', status: 'failed' }))).toBe(false);
    expect(matchesFilter(f, antiAi)).toBe(false);
  });

  it('matches verdicts, derived ones included, and never an order without a verdict', () => {
    const f = filter({ verdicts: ['likely_ai', 'uncertain_ai'] });
    expect(matchesFilter(f, ai(0.98))).toBe(true);
    expect(matchesFilter(f, ai(0.6))).toBe(true);
    expect(matchesFilter(f, ai(0.02))).toBe(false);
    expect(matchesFilter(f, antiAi)).toBe(false);
  });

  it('matches a minimum probability, inclusive', () => {
    const f = filter({ minProbability: 0.75 });
    expect(matchesFilter(f, ai(0.75))).toBe(true);
    expect(matchesFilter(f, ai(0.7499))).toBe(false);
    expect(matchesFilter(f, antiAi)).toBe(false);
  });

  it('matches detection statuses and error codes', () => {
    expect(matchesFilter(filter({ detectionStatuses: ['detected'] }), extract('detected'))).toBe(true);
    expect(matchesFilter(filter({ detectionStatuses: ['detected'] }), extract('inconclusive'))).toBe(false);
    expect(matchesFilter(filter({ errorCodes: ['PROCESSING_ERROR'] }), failed('PROCESSING_ERROR'))).toBe(true);
    expect(matchesFilter(filter({ errorCodes: ['PROCESSING_ERROR'] }), failed('WATERMARK_FILE_CORRUPTED'))).toBe(false);
  });

  it('refuses values MORI does not use, naming the field', () => {
    const parsed = sinkConfigSchema.safeParse({
      type: 'stdout',
      name: 'out',
      filter: { verdicts: ['ai'], minProbability: 2 },
    });
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['filter.verdicts.0', 'filter.minProbability']);
  });
});
