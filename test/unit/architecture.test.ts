import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const sources = new Map(files(src).map((f) => [relative(src, f), readFileSync(f, 'utf8')]));

/** Runtime imports only: `import type` disappears at compile time. */
function runtimeImports(text: string): string[] {
  return [...text.matchAll(/^import (?!type )[^'"]*from '([^']+)';/gm)].map((m) => m[1]!);
}

/** Every import of ours, type-only ones included: a type import is a dependency too. */
function folderImports(file: string, text: string): string[] {
  return [...text.matchAll(/^import [^'"]*from '(\.[^']+)';/gm)].map((m) =>
    relative(src, resolve(dirname(join(src, file)), m[1]!))
      .split('/')[0]!
      .replace(/\.js$/, '.ts'),
  );
}

/** Which top-level folders (or files) of src/ a folder may not import: dependencies point down. */
const FORBIDDEN: Record<string, string[]> = {
  orders: ['http', 'webhook', 'worker', 'mori', 'sinks', 'cli', 'outbound', 'config.ts', 'queues.ts', 'redis.ts'],
  outbound: ['http', 'webhook', 'worker', 'mori', 'sinks', 'cli', 'orders', 'config.ts', 'queues.ts'],
  mori: ['http', 'webhook', 'worker', 'sinks', 'cli', 'queues.ts'],
  sinks: ['http', 'webhook', 'worker', 'mori', 'cli', 'queues.ts'],
  webhook: ['http', 'worker', 'mori', 'sinks', 'cli'],
  worker: ['http', 'webhook', 'cli'],
  // Written by the intake and the worker, read by the admin pages and the CLI: below all four.
  history: ['http', 'webhook', 'worker', 'mori', 'sinks', 'cli', 'config.ts', 'queues.ts'],
};

describe('the source tree keeps its shape (docs/decisions.md, "Architecture")', () => {
  it('reads the folder of each import (so the rules below can fail)', () => {
    expect(folderImports('mori/mori-client.ts', sources.get('mori/mori-client.ts')!)).toEqual(
      expect.arrayContaining(['orders', 'outbound']),
    );
    expect(folderImports('worker/start-workers.ts', sources.get('worker/start-workers.ts')!)).toEqual(
      expect.arrayContaining(['config.ts', 'queues.ts']),
    );
  });

  it.each(Object.entries(FORBIDDEN))('%s/ imports nothing from %j', (folder, forbidden) => {
    const offenders = [...sources]
      .filter(([file]) => file.startsWith(`${folder}/`))
      .flatMap(([file, text]) =>
        folderImports(file, text)
          .filter((d) => forbidden.includes(d))
          .map((d) => `${file} → ${d}`),
      );
    expect(offenders).toEqual([]);
  });

  it.each(['webhook', 'mori', 'sinks'])('%s/ imports neither Fastify nor BullMQ at run time', (folder) => {
    const offenders = [...sources].filter(
      ([file, text]) =>
        file.startsWith(`${folder}/`) && runtimeImports(text).some((m) => /^(fastify|bullmq|@fastify\/)/.test(m)),
    );
    expect(offenders.map(([f]) => f)).toEqual([]);
  });

  it('only src/otel-tracing.ts imports OpenTelemetry, and only telemetry.ts loads it, on demand', () => {
    const otel = /^(@opentelemetry\/|@fastify\/otel$|bullmq-otel$)/;
    const importers = [...sources].filter(([, text]) => runtimeImports(text).some((m) => otel.test(m)));
    expect(importers.map(([f]) => f)).toEqual(['otel-tracing.ts']);
    // A static import anywhere would load the SDK with traces off (docs/interface.md, "Traces").
    const loaders = [...sources].filter(([, text]) => /otel-tracing\.js'/.test(text));
    expect(loaders.map(([f]) => f)).toEqual(['telemetry.ts']);
    expect(sources.get('telemetry.ts')).toMatch(/await import\('\.\/otel-tracing\.js'\)/);
    expect(runtimeImports(sources.get('telemetry.ts')!)).not.toContain('./otel-tracing.js');
  });

  it('only main.ts and cli/ touch process', () => {
    const offenders = [...sources].filter(
      ([file, text]) =>
        file !== 'main.ts' &&
        !file.startsWith('cli/') &&
        /\bprocess\.(env|exit|on|once|stdout|stderr|argv)\b/.test(text),
    );
    expect(offenders.map(([f]) => f)).toEqual([]);
  });

  it('has no circular imports', () => {
    const graph = new Map<string, string[]>();
    for (const [file, text] of sources) {
      const deps = runtimeImports(text)
        .filter((m) => m.startsWith('.'))
        .map((m) => relative(src, resolve(dirname(join(src, file)), m.replace(/\.js$/, '.ts'))));
      graph.set(file, deps);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
        return;
      }
      state.set(node, 'visiting');
      for (const dep of graph.get(node) ?? []) visit(dep, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(graph.size).toBeGreaterThan(20);
    expect(cycles).toEqual([]);
  });
});
