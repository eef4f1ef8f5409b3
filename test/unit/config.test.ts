import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { thrownBy } from '../helpers/rejection-of.js';

const BASE = { MORI_WEBHOOK_SECRET: 'whsec_abcdefgh', MORI_API_TOKEN: 'token' };

const problems = (env: Record<string, string>) => thrownBy(() => loadConfig(env), ConfigError).problems;

describe('loadConfig', () => {
  it("applies the contract's defaults", () => {
    const c = loadConfig(BASE);
    expect(c).toMatchObject({
      ROLE: 'all',
      PORT: 8080,
      HOST: '0.0.0.0',
      MORI_API_BASE_URL: 'https://api.bizmori.com',
      WEBHOOK_PATH: '/webhooks/mori',
      WEBHOOK_BODY_LIMIT: 65536,
      DEDUPE_WINDOW_SECONDS: 604800,
      LOG_LEVEL: 'info',
      REDIS_PREFIX: '{mori}',
      runsApi: true,
      runsWorker: true,
    });
    expect(c.sinks).toEqual([{ type: 'file', name: 'orders-file', path: 'data/orders.jsonl' }]);
    expect(c.MORI_RETRY_BUDGET_MS).toBeGreaterThanOrEqual(3600_000);
    expect(c.ORDER_PENDING_BUDGET_MS).toBeGreaterThanOrEqual(1800_000);
    expect(c.SINK_RETRY_BUDGET_MS).toBeGreaterThanOrEqual(24 * 3600_000);
  });

  it('returns a deep-frozen object', () => {
    const c = loadConfig(BASE);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.sinks[0])).toBe(true);
  });

  it('splits rotated secrets', () => {
    expect(
      loadConfig({ ...BASE, MORI_WEBHOOK_SECRET: 'whsec_newsecret1, whsec_oldsecret2' }).MORI_WEBHOOK_SECRET,
    ).toEqual(['whsec_newsecret1', 'whsec_oldsecret2']);
  });

  it('names every problem at once', () => {
    const p = problems({
      PORT: 'eighty',
      ROLE: 'both',
      REDIS_URL: 'http://x',
      WEBHOOK_PATH: 'no-slash',
      LOG_LEVEL: 'loud',
    });
    expect(p.map((x) => x.split(':')[0])).toEqual(
      expect.arrayContaining(['ROLE', 'PORT', 'REDIS_URL', 'LOG_LEVEL', 'WEBHOOK_PATH']),
    );
  });

  it('requires the webhook secret where the receiver runs, and the API token where a worker runs', () => {
    const p = problems({});
    expect(p.some((x) => x.startsWith('MORI_WEBHOOK_SECRET'))).toBe(true);
    expect(p.some((x) => x.startsWith('MORI_API_TOKEN'))).toBe(true);
    expect(() => loadConfig({ ROLE: 'api', MORI_WEBHOOK_SECRET: 'whsec_abcdefgh' })).not.toThrow();
    expect(() => loadConfig({ ROLE: 'worker', MORI_API_TOKEN: 't' })).not.toThrow();
    expect(() => loadConfig({ ROLE: 'api', MORI_WEBHOOK_ALLOW_UNSIGNED: 'true' })).not.toThrow();
  });

  it('reads sinks from SINKS and names bad fields by their path', () => {
    const sinks = JSON.stringify([
      { type: 'http', name: 'hook', url: 'ftp://x' },
      { type: 'stdout', name: 'hook' },
      { type: 'carrier-pigeon', name: 'p' },
    ]);
    const p = problems({ ...BASE, SINKS: sinks });
    expect(p).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SINKS\.0\.url: /), expect.stringMatching(/^SINKS\.2\.type: /)]),
    );
  });

  it('reads sinks from SINKS_FILE and refuses both at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sinks-'));
    const file = join(dir, 'sinks.json');
    writeFileSync(file, JSON.stringify([{ type: 'stdout', name: 'out' }]));
    expect(loadConfig({ ...BASE, SINKS_FILE: file }).sinks).toEqual([{ type: 'stdout', name: 'out' }]);
    expect(problems({ ...BASE, SINKS_FILE: file, SINKS: '[]' })[0]).toMatch(/set one of them/);
    expect(problems({ ...BASE, SINKS_FILE: join(dir, 'missing.json') })[0]).toMatch(/SINKS_FILE: cannot read/);
  });

  it('refuses a Standard Webhooks secret that is not base64 of 24 to 64 bytes', () => {
    const p = problems({
      ...BASE,
      SINKS: JSON.stringify([{ type: 'http', name: 'h', url: 'https://x.test/', secret: 'whsec_c2hvcnQ=' }]),
    });
    expect(p[0]).toMatch(/^SINKS\.0\.secret: /);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ ...BASE, PORT: '', REDIS_URL: '' }).PORT).toBe(8080);
  });
});
