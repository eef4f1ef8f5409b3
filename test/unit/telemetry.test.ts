import { describe, expect, it } from 'vitest';
import { startTelemetry, tracesRequested } from '../../src/telemetry.js';
import { NO_TRACING } from '../../src/tracing.js';

const ENDPOINT = 'http://collector:4318';

describe('whether the OTEL_* variables ask for traces', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['nothing set', {}, false],
    ['an OTLP endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
    ['a traces endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` }, true],
    ['an empty endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, false],
    ['an exporter named', { OTEL_TRACES_EXPORTER: 'console' }, true],
    ['exporter none, with an endpoint', { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, false],
    ['none among others', { OTEL_TRACES_EXPORTER: 'none, otlp' }, true],
    ['the SDK disabled', { OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, false],
    ['the SDK not disabled', { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
    ['only a service name', { OTEL_SERVICE_NAME: 'receiver' }, false],
  ])('%s → %s', (_what, env, expected) => {
    expect(tracesRequested(env)).toBe(expected);
  });

  it('starts nothing when not asked', async () => {
    expect(await startTelemetry({ OTEL_SERVICE_NAME: 'receiver' }, 'all')).toBe(NO_TRACING);
  });
});
