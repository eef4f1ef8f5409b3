import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const dashboard = JSON.parse(readFileSync(join(root, 'deploy/grafana/mori-webhook-receiver.dashboard.json'), 'utf8'));

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { datasource: { type: string; uid: string }; expr: string }[];
}
const panels: Panel[] = dashboard.panels;
const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

/**
 * What Grafana's import needs from a dashboard exported "for sharing externally": the datasource
 * as an input the importer picks, and the classic JSON model at its last schema version (42,
 * grafana/grafana apps/dashboard/pkg/migration/schemaversion/README.md).
 */
describe('the Grafana dashboard in deploy/grafana', () => {
  it('asks for its Prometheus datasource on import and is at the current schema version', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    expect(dashboard.schemaVersion).toBe(42);
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.id).toBeNull();
  });

  it('has panels with unique ids, each query on the imported datasource', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels.filter((q) => q.type !== 'row')) {
      expect(p.datasource, p.title).toEqual(DATASOURCE);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource, p.title).toEqual(DATASOURCE);
    }
  });

  it('lays its panels out on the 24-column grid without overlaps', () => {
    const taken = new Set<string>();
    for (const { title, gridPos: g } of panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(taken.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          taken.add(`${x},${y}`);
        }
      }
    }
  });

  it('filters every query by the job variable', () => {
    expect(dashboard.templating.list.map((v: { name: string }) => v.name)).toEqual(['job']);
    for (const p of panels) for (const t of p.targets ?? []) expect(t.expr, p.title).toContain('job=~"$job"');
  });
});
