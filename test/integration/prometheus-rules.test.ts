import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');
const rulesDir = join(root, 'deploy/prometheus');
const RULES = join(rulesDir, 'mori-webhook-receiver.rules.yml');
const RULE_TESTS = join(rulesDir, 'mori-webhook-receiver.rules.test.yml');

/** Debian's `prometheus` package ships promtool; .ci/run installs it when it is missing. */
function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: rulesDir, encoding: 'utf8' });
  if (run.error) throw new Error(`cannot run promtool (apt-get install prometheus): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups: { name: string; rules: Rule[] }[] = parse(readFileSync(RULES, 'utf8')).groups;
const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);

const readmeHeadings = new Set(
  readFileSync(join(root, 'README.md'), 'utf8')
    .split('\n')
    .filter((l) => /^#{2,4} /.test(l))
    .map((l) => l.replace(/^#+ /, '')),
);

describe('the Prometheus rules in deploy/prometheus', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', RULES);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(status, output).toBe(0);
  });

  it("pass their promtool unit tests (promtool's own output on failure)", () => {
    const { status, output } = promtool('test', 'rules', RULE_TESTS);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('give every alert a `for`, a severity, a summary, a description and a runbook section of the README', () => {
    expect(alerts.length).toBeGreaterThan(8);
    for (const a of alerts) {
      expect(a.for, a.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
      const section = /^README\.md, "([^"]+)"$/.exec(a.annotations?.runbook ?? '')?.[1];
      expect(section && readmeHeadings.has(section), `${a.alert}: runbook ${a.annotations?.runbook}`).toBe(true);
    }
  });

  it('unit-test every alert they define', () => {
    const tested = new Set(
      (parse(readFileSync(RULE_TESTS, 'utf8')).tests as { alert_rule_test?: { alertname: string }[] }[]).flatMap((t) =>
        (t.alert_rule_test ?? []).map((a) => a.alertname),
      ),
    );
    expect(alerts.map((a) => a.alert).filter((name) => !tested.has(name!))).toEqual([]);
  });
});
