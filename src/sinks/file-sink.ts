import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SinkConfig } from './sink-config.js';
import { SinkError, type DeliveryEnvelope, type Sink } from './sink.js';

type FileSinkConfig = Extract<SinkConfig, { type: 'file' }>;

/**
 * Appends one JSON line per delivery. The file is opened with O_APPEND (`'a'`), and each line goes
 * out in ONE write(2) of the whole buffer: with O_APPEND the kernel moves to the end of the file
 * and writes under the inode lock as a single step, so lines from several worker processes on one
 * host never interleave or tear (POSIX write(2), "If the O_APPEND flag … is set"; local
 * filesystems, not NFS). Within this process, writes are chained so they never overlap.
 */
export function createFileSink(config: FileSinkConfig): Sink {
  let handle: Promise<FileHandle> | undefined;
  let chain: Promise<unknown> = Promise.resolve();

  const openOnce = () =>
    (handle ??= mkdir(dirname(config.path), { recursive: true }).then(() => open(config.path, 'a')).catch((err) => {
      handle = undefined;
      throw err;
    }));

  async function append(line: Buffer): Promise<void> {
    const fh = await openOnce();
    const { bytesWritten } = await fh.write(line);
    if (bytesWritten !== line.length) {
      throw new SinkError(config.name, `sink "${config.name}" wrote ${bytesWritten} of ${line.length} bytes to ${config.path}`);
    }
  }

  return {
    name: config.name,
    type: 'file',
    deliver(envelope: DeliveryEnvelope) {
      const line = Buffer.from(`${JSON.stringify(envelope)}\n`, 'utf8');
      const result = chain.then(() => append(line));
      chain = result.catch(() => undefined);
      return result.catch((err: unknown) => {
        if (err instanceof SinkError) throw err;
        throw new SinkError(config.name, `sink "${config.name}" could not append to ${config.path}: ${(err as Error).message}`, { cause: err });
      });
    },
    async close() {
      await chain;
      const h = handle;
      handle = undefined;
      if (h) await (await h).close();
    },
  };
}
