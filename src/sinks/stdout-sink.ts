import type { SinkConfig } from './sink-config.js';
import { SinkError, type DeliveryEnvelope, type Sink } from './sink.js';

type StdoutSinkConfig = Extract<SinkConfig, { type: 'stdout' }>;

/** One JSON line per delivery on the stream it is given (main.ts passes standard output). */
export function createStdoutSink(config: StdoutSinkConfig, deps: { out: NodeJS.WritableStream }): Sink {
  return {
    name: config.name,
    type: 'stdout',
    deliver(envelope: DeliveryEnvelope) {
      // Resolves when the stream has taken the line, so backpressure slows the worker down.
      return new Promise<void>((resolve, reject) => {
        deps.out.write(`${JSON.stringify(envelope)}\n`, (err) =>
          err
            ? reject(
                new SinkError(config.name, `sink "${config.name}" could not write: ${err.message}`, { cause: err }),
              )
            : resolve(),
        );
      });
    },
    close: async () => undefined,
  };
}
