/** MORI's events nest three levels deep; anything past this is not an event and is not parsed. */
export const MAX_JSON_DEPTH = 32;

export interface JsonShape {
  /** Deepest nesting of arrays and objects, counted up to MAX_JSON_DEPTH + 1 (then the scan stops). */
  depth: number;
  /** Whitespace outside strings: the body is not the compact JSON MORI signs. */
  spaced: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
// '[' '{', ']' '}', and JSON's four whitespace bytes: compared directly, as this runs over every
// byte of every webhook (a Set lookup per byte showed in the CPU profile).
const [OPEN_ARRAY, OPEN_OBJECT, CLOSE_ARRAY, CLOSE_OBJECT] = [0x5b, 0x7b, 0x5d, 0x7d];
const [SPACE, TAB, LF, CR] = [0x20, 0x09, 0x0a, 0x0d];

/**
 * One pass over the bytes, no parsing: how deep the JSON nests and whether it carries whitespace
 * between tokens. Lets the webhook refuse a 10,000-deep body before any recursive parse or
 * stringify, and skip the compact-JSON signature retry for bodies that are compact already.
 */
export function scanJson(raw: Buffer): JsonShape {
  let depth = 0;
  let deepest = 0;
  let spaced = false;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      depth++;
      if (depth > deepest && (deepest = depth) > MAX_JSON_DEPTH) break;
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) depth--;
    else if (b === SPACE || b === TAB || b === LF || b === CR) spaced = true;
  }
  return { depth: deepest, spaced };
}
