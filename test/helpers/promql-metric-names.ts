import { parser } from '@prometheus-io/lezer-promql';

/**
 * Grafana's interval variables stand where PromQL wants a duration; label values like "$job" are
 * strings already. Each is replaced by a duration so the expression parses as Prometheus will see it.
 */
const GRAFANA_DURATIONS = /\$__(rate_interval|interval|range)\b/g;

/**
 * The metric names a PromQL expression selects, read with Prometheus' own grammar (the parser its
 * web UI uses). Throws when the expression does not parse, naming the expression.
 */
export function promqlMetricNames(expression: string): string[] {
  const expr = expression.replace(GRAFANA_DURATIONS, '5m');
  const names: string[] = [];
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.push(expr.slice(node.from, node.to));
      }
    },
  });
  if (errors.length > 0) throw new Error(`PromQL does not parse at offset ${errors[0]}: ${expression}`);
  return names;
}

/**
 * Every sample name an exposition offers, from its `# TYPE` lines: counters as named (with `_total`
 * added in OpenMetrics form), histograms' `_bucket`, `_sum` and `_count`, summaries' `_sum` and `_count`.
 */
export function exposedSampleNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const base = name!;
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(base + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(base + s);
    else if (type === 'counter') names.add(base.endsWith('_total') ? base : `${base}_total`);
    else names.add(base);
  }
  return names;
}
