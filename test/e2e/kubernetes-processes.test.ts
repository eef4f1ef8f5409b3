import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { buildSampleEvent } from '../../src/cli/sample-orders.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';
import { finalOrder, startFakeMori, type FakeMori } from '../helpers/fake-mori.js';
import { readJsonLines } from '../helpers/json-lines.js';
import {
  KEDA_DIR,
  SECRET_EXAMPLE,
  kustomizationManifests,
  manifestsIn,
  podSpecOf,
  resolveEnv,
  type Manifest,
} from '../helpers/kubernetes-manifests.js';
import { postSignedTo } from '../helpers/post-signed-to.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';

const manifests = [...kustomizationManifests(KEDA_DIR), ...manifestsIn(SECRET_EXAMPLE)];
const find = (kind: string, name: string): Manifest =>
  manifests.find((m) => m.kind === kind && m.metadata.name === name)!;
const apiContainer = podSpecOf(find('Deployment', 'mori-webhook-receiver-api')).containers[0]!;
const workerContainer = podSpecOf(find('Deployment', 'mori-webhook-receiver-worker')).containers[0]!;
const ingressPath = (
  find('Ingress', 'mori-webhook-receiver') as unknown as { spec: { rules: { http: { paths: { path: string }[] } }[] } }
).spec.rules[0]!.http.paths[0]!.path;
const triggers = (
  find('ScaledObject', 'mori-webhook-receiver-worker') as unknown as {
    spec: { triggers: { metadata: { listName?: string; stream?: string } }[] };
  }
).spec.triggers.map((t) => t.metadata.listName ?? t.metadata.stream);

/**
 * Each container's environment as the kubelet would build it from the manifests, with what only
 * a test must change: this run's Redis and a key prefix of its own, loopback and a free port
 * (startService), and MORI played by a local fake.
 */
function envFor(container: typeof apiContainer, prefix: string, mori: FakeMori): Record<string, string> {
  const { HOST: _host, PORT: _port, ...env } = resolveEnv(container, manifests);
  return {
    ...env,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: prefix,
    MORI_API_BASE_URL: mori.url,
    ...(env.MORI_API_TOKEN ? { MORI_API_TOKEN: mori.token } : {}),
  };
}

/** Stops the process when the test finishes, as the kubelet does, and requires the clean exit a pod needs. */
function stopWhenFinished(service: ServiceProcess): ServiceProcess {
  onTestFinished(async () => {
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });
  return service;
}

describe('the api and the worker, run with the Kubernetes manifests’ configuration', () => {
  it('answer the probes, queue a webhook from the Ingress path on the list KEDA reads, and deliver it', async () => {
    const mori = await startFakeMori();
    const redis = new Redis(inject('redisUrl'));
    onTestFinished(async () => void (await redis.quit()));
    // KEDA reads the manifests' prefix; this test writes under its own, in the same place of the name.
    const prefix = testPrefix();
    const configPrefix = resolveEnv(apiContainer, manifests).REDIS_PREFIX ?? '{mori}';
    const [eventsWaitList, deliveriesWaitList, intakeStream] = triggers.map((name = '') => {
      expect(name.startsWith(`${configPrefix}:`)).toBe(true);
      return prefix + name.slice(configPrefix.length);
    });

    const api = stopWhenFinished(await startService(envFor(apiContainer, prefix, mori)));
    for (const probe of [apiContainer.livenessProbe, apiContainer.readinessProbe, apiContainer.startupProbe]) {
      expect((await fetch(`${api.url}${probe!.httpGet!.path}`)).status, probe!.httpGet!.path).toBe(200);
    }

    const order = finalOrder('1234567890123456789');
    mori.setOrder(order);
    const body = JSON.stringify(buildSampleEvent(order, 'current', 'evt-k8s'));
    const res = await postSignedTo(
      `${api.url}${ingressPath}`,
      body,
      resolveEnv(apiContainer, manifests).MORI_WEBHOOK_SECRET!,
    );
    expect(res.status, `${await res.clone().text()}\n${api.output()}`).toBe(200);
    // No worker yet: the event waits in the intake, the stream the ScaledObject's third trigger measures.
    expect(await redis.xlen(intakeStream!)).toBe(1);
    expect(await redis.llen(eventsWaitList!)).toBe(0);
    expect(await redis.llen(deliveriesWaitList!)).toBe(0);

    // The worker's default file sink writes data/orders.jsonl under its working directory, /app in the image.
    const workdir = mkdtempSync(join(tmpdir(), 'mori-k8s-worker-'));
    const worker = stopWhenFinished(await startService(envFor(workerContainer, prefix, mori), undefined, workdir));
    for (const probe of [workerContainer.livenessProbe, workerContainer.readinessProbe]) {
      expect((await fetch(`${worker.url}${probe!.httpGet!.path}`)).status, probe!.httpGet!.path).toBe(200);
    }
    await eventually(() => readJsonLines(join(workdir, 'data/orders.jsonl')).length === 1, {
      timeoutMs: 20_000,
      what: 'the worker to deliver the order to its file sink',
    });
    expect(readJsonLines(join(workdir, 'data/orders.jsonl'))[0]).toMatchObject({
      data: { event: { eventId: 'evt-k8s' } },
    });
    expect(await redis.llen(eventsWaitList!)).toBe(0);
    expect(await redis.xlen(intakeStream!)).toBe(0);
  });
});
