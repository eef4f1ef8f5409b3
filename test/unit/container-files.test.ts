import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config.js';

const root = join(import.meta.dirname, '../..');
// Merge keys (<<: *app) on, as docker compose reads them.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

/** Variables the image or Node itself reads, on top of the service's configuration. */
const ALSO_ALLOWED = ['NODE_ENV'];

function interpolations(value: unknown): string[] {
  return [...JSON.stringify(value).matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
}

describe('docker-compose.yml', () => {
  const { redis, api, worker } = compose.services;

  it('runs Redis with AOF (everysec), noeviction, a health check and a named volume', () => {
    const args: string[] = redis.command;
    expect(args.join(' ')).toMatch(/--appendonly yes/);
    expect(args.join(' ')).toMatch(/--appendfsync everysec/);
    expect(args.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis.healthcheck.test).toContain('ping');
    const [volume] = (redis.volumes[0] as string).split(':');
    expect(Object.keys(compose.volumes)).toContain(volume);
  });

  it('runs api and worker from the same image, after Redis is healthy', () => {
    for (const svc of [api, worker]) {
      expect(svc.build).toBe('.');
      expect(svc.image).toBe(api.image);
      expect(svc.depends_on.redis.condition).toBe('service_healthy');
      expect(svc.env_file[0].required).toBe(false);
    }
    expect(api.environment.ROLE).toBe('api');
    expect(worker.environment.ROLE).toBe('worker');
    expect(api.ports).toContain('8080:8080');
  });

  it('keeps the shutdown grace period above SHUTDOWN_TIMEOUT_MS', () => {
    for (const svc of [api, worker]) expect(Number.parseInt(svc.stop_grace_period, 10) * 1000).toBeGreaterThan(25_000);
  });

  it('has a demo profile with the MORI simulator', () => {
    const sim = compose.services['mori-sim'];
    expect(sim.profiles).toEqual(['demo']);
    expect(sim.command.slice(0, 3)).toEqual(['node', 'dist/cli/main.js', 'mock-mori']);
  });

  it("has a sentinel profile: a replica and three sentinels with a failover inside MORI's first retries", () => {
    const sentinels = ['sentinel-1', 'sentinel-2', 'sentinel-3'].map((n) => compose.services[n]);
    const replica = compose.services['redis-replica'];
    expect(replica.profiles).toEqual(['sentinel']);
    expect(replica.command.join(' ')).toMatch(/--replicaof redis 6379/);
    expect(replica.command.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    for (const s of sentinels) {
      expect(s.profiles).toEqual(['sentinel']);
      const script = s.command.join(' ');
      expect(script).toMatch(/sentinel monitor mori redis 6379 2/);
      // MORI retries after 1, 2 and 4 s: detection must leave room for the promotion within ~7 s.
      const downAfter = Number(/down-after-milliseconds mori (\d+)/.exec(script)?.[1]);
      expect(downAfter).toBeGreaterThan(0);
      expect(downAfter).toBeLessThanOrEqual(3000);
      expect(script).toMatch(/--sentinel/);
    }
    for (const svc of [api, worker]) {
      expect(svc.environment.REDIS_MODE).toBe('${REDIS_MODE:-single}');
      expect(svc.environment.REDIS_SENTINELS).toBe('${REDIS_SENTINELS:-}');
    }
  });

  it('passes only variables the configuration schema knows', () => {
    const names = new Set<string>();
    for (const svc of Object.values<Record<string, unknown>>(compose.services)) {
      for (const k of Object.keys((svc.environment as Record<string, string>) ?? {})) names.add(k);
      for (const k of interpolations(svc)) names.add(k);
    }
    expect(names.size).toBeGreaterThan(3);
    expect([...names].filter((n) => !CONFIG_VARIABLES.includes(n) && !ALSO_ALLOWED.includes(n))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const engines: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;
  const stages = dockerfile.split('\n').filter((l) => l.startsWith('FROM '));
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('builds in one stage and runs from a slim Node of the newest supported line in another', () => {
    expect(stages).toHaveLength(2);
    const newest = Math.max(...[...engines.matchAll(/(\d+)\.\d+\.\d+/g)].map((m) => Number(m[1])));
    for (const from of stages) expect(from).toMatch(new RegExp(`^FROM node:${newest}-[a-z]+-slim `));
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
  });

  it('installs production dependencies only, runs as a non-root user with NODE_ENV=production', () => {
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/NODE_ENV=production/);
  });

  it('hands signals to Node through an init (tini) and probes /healthz', () => {
    expect(runtime).toMatch(/ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/);
    expect(runtime).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(runtime).toMatch(/CMD \["node", "dist\/main.js"\]/);
  });
});
