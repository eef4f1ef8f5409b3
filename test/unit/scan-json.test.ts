import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, scanJson } from '../../src/webhook/scan-json.js';

const scan = (s: string) => scanJson(Buffer.from(s));

describe('scanJson', () => {
  it('counts nesting, not brackets inside strings or escaped quotes', () => {
    expect(scan('{"a":{"b":[1,2]}}')).toEqual({ depth: 3, spaced: false });
    expect(scan('{"a":"[[[[{{{{ \\" [[["}')).toEqual({ depth: 1, spaced: false });
  });

  it('sees whitespace between tokens only', () => {
    expect(scan('{"a b":"c d"}').spaced).toBe(false);
    expect(scan('{\n  "a": 1\n}').spaced).toBe(true);
  });

  it('stops counting past the limit', () => {
    expect(scan('['.repeat(100_000)).depth).toBe(MAX_JSON_DEPTH + 1);
  });
});
