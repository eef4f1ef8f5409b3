import { existsSync, readFileSync } from 'node:fs';

/** Every JSON line a file sink has written so far; none while the file does not exist. */
export function readJsonLines(file: string): any[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
