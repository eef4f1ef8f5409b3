import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { TEST_SECRET, testPrefix } from '../helpers/build-test-server.js';
import { exposedSampleNames, promqlMetricNames } from '../helpers/promql-metric-names.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';

const root = join(import.meta.dirname, '../..');
const rules: { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] } = parse(
  readFileSync(join(root, 'deploy/prometheus/mori-webhook-receiver.rules.yml'), 'utf8'),
);
const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/mori-webhook-receiver.dashboard.json'), 'utf8'));

interface Panel {
  title: string;
  targets?: { expr: string }[];
}
const dashboardExprs: { where: string; expr: string }[] = [
  ...(dashboard.panels as Panel[]).flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
  // label_values(metric, label) is Grafana's, not PromQL: its metric is checked on its own.
  ...(dashboard.templating.list as { name: string; definition: string }[]).map((v) => ({
    where: `variable ${v.name}`,
    expr: /^label_values\(([^,]+),/.exec(v.definition)![1]!,
  })),
];
const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: r.alert ?? r.record!, expr: r.expr })));
const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));

/**
 * The names come from the running service, not from a list: the built program started with
 * ROLE=all against a real Redis, as it runs in production, and its /metrics read after the queue
 * gauges were collected from Redis.
 */
describe('the dashboard and the rules use only metrics the service exports', () => {
  let service: ServiceProcess;
  let exported: Set<string>;

  beforeAll(async () => {
    service = await startService({
      ROLE: 'all',
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: testPrefix(),
      MORI_WEBHOOK_SECRET: TEST_SECRET,
      MORI_API_TOKEN: 'test-token',
      // Never reached: the reconciler is off and no event is sent.
      MORI_API_BASE_URL: 'http://127.0.0.1:9',
      RECONCILE_INTERVAL_MS: '0',
      LOG_LEVEL: 'warn',
    });
    const res = await fetch(`${service.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    // The queue gauges were read from Redis for this scrape.
    expect(text).toMatch(/^mori_queue_jobs\{queue="mori-events",state="waiting"\} 0$/m);
    exported = exposedSampleNames(text);
  });

  afterAll(async () => {
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });

  it('reads the exposition: counters, histograms and Node default metrics', () => {
    expect(exported).toContain('mori_webhook_events_total');
    expect(exported).toContain('mori_webhook_request_duration_seconds_bucket');
    expect(exported).toContain('mori_webhook_request_duration_seconds_count');
    expect(exported).toContain('process_resident_memory_bytes');
    expect(exported).not.toContain('mori_webhook_events_total_total');
  });

  it('every dashboard query parses and selects exported metrics', () => {
    expect(dashboardExprs.length).toBeGreaterThan(15);
    const unknown = dashboardExprs.flatMap(({ where, expr }) =>
      promqlMetricNames(expr)
        .filter((n) => !exported.has(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every rule parses and selects exported metrics or series the rules record', () => {
    expect(ruleExprs.length).toBeGreaterThan(10);
    const used = ruleExprs.flatMap(({ where, expr }) => promqlMetricNames(expr).map((name) => ({ where, name })));
    expect(used.filter((u) => u.name.startsWith('mori_')).length).toBeGreaterThan(10);
    expect(
      used.filter((u) => !exported.has(u.name) && !recorded.has(u.name)).map((u) => `${u.where}: ${u.name}`),
    ).toEqual([]);
  });

  it('the dashboard covers intake, rejections, latency, MORI and its budget, queues, deliveries and dead letters', () => {
    const shown = new Set(dashboardExprs.flatMap(({ expr }) => promqlMetricNames(expr)));
    for (const name of [
      'mori_webhook_events_total',
      'mori_webhook_rejections_total',
      'mori_webhook_request_duration_seconds_bucket',
      'mori_api_calls_total',
      'mori_api_budget_calls_per_window',
      'mori_queue_jobs',
      'mori_queue_oldest_waiting_age_seconds',
      'mori_sink_deliveries_total',
      'mori_dead_letters_total',
    ]) {
      expect(shown, name).toContain(name);
    }
  });
});
