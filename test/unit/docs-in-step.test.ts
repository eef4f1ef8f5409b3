import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
    const above = lines.slice(0, at).reverse().find((l) => !/^[A-Z_]+=/.test(l));
    expect(above?.startsWith('#')).toBe(true);
  });

  it.each(CONFIG_VARIABLES)('the README\'s configuration table names %s', (name) => {
    expect(readme).toMatch(new RegExp(`\\| [^|\\n]*\`${name}\``));
  });

  it('the README\'s sink example is a valid SINKS value', () => {
    const section = readme.slice(readme.indexOf('## Sinks'));
    const example = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    const parsed = sinkListSchema.safeParse(JSON.parse(example));
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.map((s) => s.type)).toEqual(['http', 'file', 'redis-stream', 'stdout']);
  });

  it('.env.example names no variable the service does not read', () => {
    const names = envExample.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]);
    expect(names.filter((n) => !CONFIG_VARIABLES.includes(n!))).toEqual([]);
  });
});
