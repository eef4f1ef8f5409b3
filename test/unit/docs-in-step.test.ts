import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseEnv as parseDotenv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, parseEnv } from '../../src/config.js';
import { ERROR_CODES } from '../../src/errors.js';
import { sinkListSchema } from '../../src/sinks/sink-config.js';

const root = join(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const envExample = readFileSync(join(root, '.env.example'), 'utf8');

describe('the documentation stays in step with the code', () => {
  it.each(Object.entries(ERROR_CODES))('the README lists error code %s with status %i', (code, status) => {
    expect(readme).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });

  it.each(CONFIG_VARIABLES)('.env.example sets %s with a comment above it', (name) => {
    const lines = envExample.split('\n');
    const at = lines.findIndex((l) => l.startsWith(`${name}=`));
    expect(at, `${name} missing from .env.example`).toBeGreaterThan(0);
    const above = lines
      .slice(0, at)
      .reverse()
      .find((l) => !/^[A-Z_]+=/.test(l));
    expect(above?.startsWith('#')).toBe(true);
  });

  it.each(CONFIG_VARIABLES)("the README's configuration table names %s", (name) => {
    expect(readme).toMatch(new RegExp(`\\| [^|\\n]*\`${name}\``));
  });

  it("the README's sink example is a valid SINKS value", () => {
    const section = readme.slice(readme.indexOf('## Sinks'));
    const example = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const parsed = sinkListSchema.safeParse(JSON.parse(example));
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.map((s) => s.type)).toEqual(['http', 'file', 'redis-stream', 'stdout']);
  });

  it('.env.example names no variable the service does not read', () => {
    const names = envExample
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0]);
    expect(names.filter((n) => !CONFIG_VARIABLES.includes(n!))).toEqual([]);
  });
});

/** What the schema makes of one variable set to `value` alone, or left unset: its default, or undefined. */
const asRead = (name: string, value?: string): unknown =>
  (parseEnv(value === undefined ? {} : { [name]: value }) as Record<string, unknown>)[name];

/**
 * The rows of the first table under `heading` whose header has a "variable" and a "default"
 * column: each row's variables (a cell may name several, e.g. `PORT`, `HOST`) and its default cell.
 */
function defaultsTable(text: string, heading: string): { names: string[]; cell: string }[] {
  const lines = text.slice(text.indexOf(`${heading}\n`)).split('\n');
  const start = lines.findIndex((l) => /^\| variable \|/.test(l) && /\| default \|?/.test(l));
  expect(start, `no table of variables and defaults under "${heading}"`).toBeGreaterThan(0);
  const cells = (row: string) =>
    row
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
  const column = cells(lines[start]!).indexOf('default');
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start + 2, end).map((row) => ({
    names: [...cells(row)[0]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!),
    cell: cells(row)[column]!,
  }));
}

/** A default cell that gives values: `a`, `b`, each perhaps with a gloss, e.g. `604800` (7 days). */
const VALUES_CELL = /^`[^`]+`(?: \([^)]*\))?(?:, `[^`]+`(?: \([^)]*\))?)*$/;

describe('each default lives in src/config.ts, and the docs repeat it faithfully', () => {
  it.each(Object.entries(parseDotenv(envExample)))(
    '.env.example sets %s to its default, or leaves it empty',
    (name, value) => {
      const fallback = asRead(name);
      // An empty value means "use the default"; a value for a variable without one would be a real setting.
      if (fallback === undefined) expect(value, `${name} has no default`).toBe('');
      else if (value !== '') expect(asRead(name, value)).toEqual(fallback);
    },
  );

  const tables = [
    { doc: 'README.md', rows: defaultsTable(readme, '## Configuration') },
    {
      doc: 'docs/interface.md',
      rows: defaultsTable(readFileSync(join(root, 'docs/interface.md'), 'utf8'), '### Running it'),
    },
  ];

  it.each(tables.flatMap(({ doc, rows }) => rows.map((row) => ({ doc, ...row }))))(
    "$doc: the default of $names, $cell, is the schema's",
    ({ names, cell }) => {
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !CONFIG_VARIABLES.includes(n))).toEqual([]);
      if (VALUES_CELL.test(cell)) {
        const values = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
        expect(values, 'one default per variable').toHaveLength(names.length);
        names.forEach((name, i) => expect(asRead(name, values[i]), name).toEqual(asRead(name)));
      } else {
        // "—", "none" or a sentence: what happens when the variable is unset, which has no schema default.
        expect(names.filter((name) => asRead(name) !== undefined)).toEqual([]);
      }
    },
  );
});

/**
 * Every file of ours that may cite docs/: sources, tests, benchmarks, deploy/'s manifests, the
 * README, the files that build and run the service, and docs/ itself.
 */
function citingFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : /\.(ts|mjs|md|ya?ml)$/.test(e.name) ? [join(dir, e.name)] : [],
    );
  const self = join(import.meta.dirname, 'docs-in-step.test.ts');
  return [
    ...walk(join(root, 'src')),
    ...walk(join(root, 'test')),
    ...walk(join(root, 'bench')),
    ...walk(join(root, 'deploy')),
    ...walk(join(root, 'docs')),
    ...['README.md', 'docker-compose.yml', 'Dockerfile', '.env.example', '.ci/run'].map((f) => join(root, f)),
  ].filter((f) => f !== self);
}

/** `docs/x.md`, optionally followed by a quoted section or "pain N": how comments cite the docs. */
const CITATION = /docs\/([a-z-]+\.md),? ?(?:"([^"]+)"|pain (\d+))?/g;

/**
 * The text as one line: each line break, with the comment marker that opens the next line (`//`,
 * ` * `, `#`), becomes one space, so a section name that wraps onto the next comment line, even
 * right after `docs/x.md,`, is read whole.
 */
const joinLines = (text: string) => text.replace(/[ \t]*\r?\n[ \t]*(?:\/\/+|\*(?!\/)|#+)?[ \t]*/g, ' ');

const citations = citingFiles().flatMap((file) =>
  [...joinLines(readFileSync(file, 'utf8')).matchAll(CITATION)].map((m) => ({
    where: relative(root, file),
    doc: m[1]!,
    section: m[2],
    pain: m[3],
  })),
);

describe('every citation of docs/ resolves inside this repository', () => {
  it('finds citations to check', () => {
    expect(citations.length).toBeGreaterThan(20);
  });

  it.each(citations)('$where cites docs/$doc $section', ({ doc, section, pain }) => {
    const path = join(root, 'docs', doc);
    expect(existsSync(path), `docs/${doc} does not exist`).toBe(true);
    const text = readFileSync(path, 'utf8');
    // A section is a heading, or the first cell of a checklist row (docs/field-notes.md).
    if (section)
      expect(
        text
          .split('\n')
          .some((l) => new RegExp(`^(#+ |\\| (\\S+ \\| )?)${section.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`).test(l)),
        `no section "${section}" in docs/${doc}`,
      ).toBe(true);
    if (pain) expect(text).toMatch(new RegExp(`^${pain}\\. \\*\\*`, 'm'));
  });

  it('no file of the repository points at a document outside it', () => {
    const files = repositoryTextFiles();
    expect(files).toContain('docker-compose.yml');
    const outside = files.filter((f) =>
      /CONTRACT\.md|FIELD-NOTES\.md|\.\.\/shared\//.test(readFileSync(join(root, f), 'utf8')),
    );
    expect(outside).toEqual([]);
  });
});

/**
 * Every text file git would commit (tracked, or new and not ignored), so a file nobody thought to
 * list is checked too; the lock file is generated, and binary files cannot cite anything.
 */
function repositoryTextFiles(): string[] {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && f !== 'package-lock.json' && !/^(node_modules|dist|coverage)\//.test(f))
    .filter((f) => existsSync(join(root, f)));
  return files.filter((f) => !readFileSync(join(root, f)).includes(0));
}
