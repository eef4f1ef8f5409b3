import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { describeRedisTarget, parseHostPort } from '../../src/redis-target.js';
import { thrownBy } from '../helpers/rejection-of.js';

const BASE = { MORI_WEBHOOK_SECRET: 'whsec_abcdefgh', MORI_API_TOKEN: 'token' };

const problems = (env: Record<string, string>): readonly string[] =>
  thrownBy(() => loadConfig({ ...BASE, ...env }), ConfigError).problems;

describe('REDIS_MODE and its variables', () => {
  it('single mode without REDIS_URL leaves the target to the embedded redis-server', () => {
    expect(loadConfig(BASE).redis).toBeUndefined();
    expect(loadConfig({ ...BASE, REDIS_URL: 'rediss://u:p@cache:6380/2' }).redis).toEqual({
      mode: 'single',
      url: 'rediss://u:p@cache:6380/2',
    });
  });

  it('sentinel mode reads the sentinels, the name, their password and the data nodes from REDIS_URL', () => {
    const c = loadConfig({
      ...BASE,
      REDIS_MODE: 'sentinel',
      REDIS_SENTINELS: 's1:26379, [::1]:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_URL: 'rediss://app:pw@ignored/1',
    });
    expect(c.redis).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sentinel-secret',
      url: 'rediss://app:pw@ignored/1',
    });
    expect(describeRedisTarget(c.redis)).toBe('sentinel master "mymaster" via s1:26379,::1:26380');
  });

  it('cluster mode reads seed nodes with their credentials and TLS, and a NAT map', () => {
    const c = loadConfig({
      ...BASE,
      REDIS_MODE: 'cluster',
      REDIS_CLUSTER_NODES: 'rediss://app:pw@node-a:6379,rediss://app:pw@node-b',
      REDIS_CLUSTER_NAT_MAP: '10.0.0.1:6379=127.0.0.1:7001',
    });
    expect(c.redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'node-a', port: 6379 },
        { host: 'node-b', port: 6379 },
      ],
      auth: { username: 'app', password: 'pw', tls: true },
      natMap: { '10.0.0.1:6379': { host: '127.0.0.1', port: 7001 } },
    });
    expect(describeRedisTarget(c.redis)).not.toContain('pw');
  });

  it('names every combination that cannot work, with what to set', () => {
    expect(problems({ REDIS_MODE: 'sentinel' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS: required with REDIS_MODE=sentinel/),
      expect.stringMatching(/^REDIS_SENTINEL_NAME: required with REDIS_MODE=sentinel/),
    ]);
    expect(
      problems({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:1', REDIS_PREFIX: 'mori', REDIS_SENTINELS: 'a:1' }),
    ).toEqual([
      'REDIS_SENTINELS: read only with REDIS_MODE=sentinel (REDIS_MODE is cluster)',
      expect.stringMatching(/^REDIS_URL: not read with REDIS_MODE=cluster/),
      expect.stringMatching(/^REDIS_PREFIX: with REDIS_MODE=cluster it must contain a hash tag/),
      expect.stringMatching(/^REDIS_CLUSTER_NODES: required with REDIS_MODE=cluster/),
    ]);
    expect(problems({ REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: 'redis://a:1/3,redis://x:y@b:2' })).toEqual([
      expect.stringMatching(/database 0 only/),
      expect.stringMatching(/same scheme, user and password/),
    ]);
    expect(problems({ REDIS_CLUSTER_NODES: 'redis://a:1' })).toEqual([
      'REDIS_CLUSTER_NODES: read only with REDIS_MODE=cluster (REDIS_MODE is single)',
    ]);
    expect(problems({ REDIS_WAIT_TIMEOUT_MS: '3000' })).toEqual([
      expect.stringMatching(/^REDIS_WAIT_TIMEOUT_MS: must be shorter than WEBHOOK_ENQUEUE_TIMEOUT_MS/),
    ]);
  });

  it('names a malformed value and goes on checking the rest', () => {
    expect(problems({ REDIS_MODE: 'sentinel', REDIS_SENTINELS: 's1:26379,s2', REDIS_CLUSTER_NAT_MAP: 'a=b' })).toEqual([
      'REDIS_SENTINELS.1: expected host:port, got "s2"',
      'REDIS_CLUSTER_NAT_MAP.0: expected announced-host:port=reachable-host:port, got "a=b"',
    ]);
    expect(problems({ REDIS_MODE: 'both' })[0]).toMatch(/^REDIS_MODE: /);
  });

  it('parses host:port, IPv6 in brackets, and refuses a missing or impossible port', () => {
    expect(parseHostPort('redis-1.internal:26379')).toEqual({ host: 'redis-1.internal', port: 26379 });
    expect(parseHostPort('[fd00::1]:1')).toEqual({ host: 'fd00::1', port: 1 });
    expect(parseHostPort('host')).toBeUndefined();
    expect(parseHostPort('host:70000')).toBeUndefined();
  });
});
