import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { TEST_SECRET, testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { postSignedTo } from '../helpers/post-signed-to.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';

const root = join(import.meta.dirname, '../..');
const RULES = join(root, 'deploy/prometheus/mori-webhook-receiver.rules.yml');
const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/mori-webhook-receiver.dashboard.json'), 'utf8'));
const JOB = 'mori-webhook-receiver';

/** What Grafana sends for the dashboard's variables: this job, and a window of several scrapes. */
function asGrafanaSends(expr: string): string {
  return expr.replaceAll('$job', JOB).replaceAll('$__rate_interval', '1m');
}
const panelQueries: { title: string; expr: string }[] = (
  dashboard.panels as { title: string; targets?: { expr: string }[] }[]
).flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: asGrafanaSends(t.expr) })));

interface Sample {
  metric: Record<string, string>;
}

/**
 * A real Prometheus (Debian's `prometheus` package, the one that ships promtool) scraping the
 * running service every second and evaluating the rules: the rules' and the panels' label names
 * and joins are checked against real series, which a syntax check cannot do.
 */
describe('a Prometheus server scraping the service, with the rules loaded', () => {
  let service: ServiceProcess;
  let mori: FakeMori;
  let prometheus: ReturnType<typeof spawn>;
  let prometheusExited: Promise<number | null>;
  let prometheusLog = '';
  let api: string;

  async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: Sample[] } }> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as { status: string; error?: string; data?: { result: Sample[] } };
  }

  beforeAll(async () => {
    mori = await startFakeMori();
    const workdir = mkdtempSync(join(tmpdir(), 'mori-prometheus-'));
    service = await startService(
      {
        ROLE: 'all',
        REDIS_URL: inject('redisUrl'),
        REDIS_PREFIX: testPrefix(),
        MORI_WEBHOOK_SECRET: TEST_SECRET,
        MORI_API_TOKEN: mori.token,
        MORI_API_BASE_URL: mori.url,
        RECONCILE_INTERVAL_MS: '0',
        LOG_LEVEL: 'warn',
      },
      undefined,
      workdir,
    );
    // One event delivered, one request refused, so counters and histograms have series.
    const order = finalOrder('1234567890123456789');
    mori.setOrder(order);
    const body = JSON.stringify(buildSampleEvent(order, 'current', 'evt-prometheus'));
    const signed = await postSignedTo(`${service.url}/webhooks/mori`, body, TEST_SECRET);
    expect(signed.status).toBe(200);
    const unsigned = { 'content-type': 'application/json' };
    expect((await fetch(`${service.url}/webhooks/mori`, { method: 'POST', body, headers: unsigned })).status).toBe(401);

    const port = await getPort();
    api = `http://127.0.0.1:${port}`;
    const config = join(workdir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        `  - job_name: ${JOB}`,
        `    static_configs: [{ targets: ['${new URL(service.url).host}'] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(workdir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (c) => (prometheusLog += c));
    prometheus.stderr!.on('data', (c) => (prometheusLog += c));
    prometheusExited = new Promise((resolve) => prometheus.once('exit', (code) => resolve(code)));
    await eventually(
      async () => {
        if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${prometheusLog}`);
        const up = await query(`up{job="${JOB}"} == 1`);
        return up.data?.result.length === 1;
      },
      { timeoutMs: 30_000, what: 'Prometheus to scrape the service' },
    );
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await prometheusExited;
    service?.child.kill('SIGTERM');
    expect(await service?.exited).toBe(0);
    await mori?.close();
  });

  it('evaluates every rule without an error', async () => {
    const rules = await eventually(
      async () => {
        const res = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        const all = res.data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => r.health !== 'unknown') && all;
      },
      { timeoutMs: 20_000, what: 'every rule to be evaluated once' },
    );
    expect(rules.length).toBeGreaterThan(10);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  });

  it('records the queue series the alerts read, one per queue, whatever the number of replicas', async () => {
    const backlog = await eventually(
      async () => {
        const r = await query('queue:mori_queue_backlog:max');
        return r.data?.result.length === 3 && r.data.result;
      },
      { timeoutMs: 20_000, what: 'the backlog recording rule' },
    );
    expect(backlog.map((s) => s.metric).sort((a, b) => a.queue!.localeCompare(b.queue!))).toEqual([
      { __name__: 'queue:mori_queue_backlog:max', queue: 'mori-deliveries' },
      { __name__: 'queue:mori_queue_backlog:max', queue: 'mori-events' },
      { __name__: 'queue:mori_queue_backlog:max', queue: 'mori-intake' },
    ]);
  });

  it('answers every dashboard query', async () => {
    expect(panelQueries.length).toBeGreaterThan(15);
    const failed: string[] = [];
    for (const { title, expr } of panelQueries) {
      const r = await query(expr);
      if (r.status !== 'success') failed.push(`${title}: ${r.error}`);
    }
    expect(failed).toEqual([]);
  });

  it.each([
    ['Webhooks by outcome', { outcome: 'accepted' }],
    ['Rejections by error code', { code: 'SIGNATURE_MISSING' }],
    ['Jobs by queue and state', { queue: 'mori-events', state: 'waiting' }],
    ['Deliveries by sink and outcome', { sink: 'orders-file', outcome: 'delivered' }],
    ['MORI calls by purpose', { purpose: 'lookup' }],
    ['Oldest waiting job', { queue: 'mori-events' }],
  ])('shows data in "%s", labelled by the labels the service sets', async (title, labels) => {
    const { expr } = panelQueries.find((q) => q.title === title)!;
    const result = await eventually(
      async () => {
        const r = await query(expr);
        return (r.data?.result.length ?? 0) > 0 && r.data!.result;
      },
      { timeoutMs: 20_000, what: `data for ${title}` },
    );
    expect(result.map((s) => s.metric)).toContainEqual(labels);
  });
});
