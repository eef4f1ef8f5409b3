import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config.js';
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
