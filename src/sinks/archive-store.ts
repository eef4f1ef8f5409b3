import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What a stored file turned out to be. */
export interface StoredFile {
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * Where the archive sink's bytes go: a folder today; an object store (S3, GCS) would implement
 * the same four calls. Every write is atomic: a reader sees the whole file or none of it.
 */
export interface ArchiveStore {
  /** The JSON stored under `name` for the order, or undefined. */
  readJson(orderId: string, name: string): Promise<unknown>;
  /** Streams `body` into `name`, hashing as it goes; never holds the whole file in memory. */
  putStream(orderId: string, name: string, body: Readable): Promise<StoredFile>;
  putJson(orderId: string, name: string, value: unknown): Promise<StoredFile>;
}

/** Counts and hashes what flows through, unchanged. */
function measuring(): Transform & { bytes: () => number; sha256: () => string } {
  const hash = createHash('sha256');
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return Object.assign(t, { bytes: () => bytes, sha256: () => hash.digest('hex') });
}

/**
 * `<dir>/<orderId>/<name>`, written as a temporary file in the same folder, fsynced, then renamed
 * over the final name (rename is atomic within one filesystem), and the folder fsynced so the
 * rename itself survives a crash. A torn download leaves only a temporary file, removed at once.
 */
export function createFolderStore(dir: string): ArchiveStore {
  const folder = (orderId: string) => join(dir, orderId);

  async function commit(orderId: string, name: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await mkdir(folder(orderId), { recursive: true });
    const tmp = join(folder(orderId), `.tmp-${randomUUID()}`);
    try {
      await write(tmp);
      const handle = await open(tmp, 'r');
      await handle.sync();
      await handle.close();
      await rename(tmp, join(folder(orderId), name));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const dirHandle = await open(folder(orderId), 'r');
    await dirHandle.sync().finally(() => dirHandle.close());
  }

  return {
    async readJson(orderId, name) {
      try {
        return JSON.parse(await readFile(join(folder(orderId), name), 'utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
    async putStream(orderId, name, body) {
      const meter = measuring();
      await commit(orderId, name, (tmp) => pipeline(body, meter, createWriteStream(tmp)));
      return { name, bytes: meter.bytes(), sha256: meter.sha256() };
    },
    async putJson(orderId, name, value) {
      const text = `${JSON.stringify(value, null, 2)}\n`;
      await commit(orderId, name, (tmp) => writeFile(tmp, text));
      return { name, bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
    },
  };
}
