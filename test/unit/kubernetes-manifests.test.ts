import { readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig, parseEnv } from '../../src/config.js';
import { DELIVERIES_QUEUE, EVENTS_QUEUE } from '../../src/queues.js';
import { intakeKey } from '../../src/keys.js';
import {
  BASE_DIR,
  KEDA_DIR,
  KUBERNETES_DIR,
  SECRET_EXAMPLE,
  kustomizationManifests,
  manifestsIn,
  podSpecOf,
  resolveEnv,
  type Manifest,
} from '../helpers/kubernetes-manifests.js';

/** The schema models of kubernetes-models (Kubernetes 1.27) and @kubernetes-models/keda (KEDA 2). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

function validate(m: Manifest): void {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`${m.file}: no schema for ${m.apiVersion} ${m.kind}`);
  const { file: _file, ...doc } = m;
  new Model(doc as never).validate();
}

const base = kustomizationManifests(BASE_DIR);
const withKeda = kustomizationManifests(KEDA_DIR);
const [secret] = manifestsIn(SECRET_EXAMPLE);
const all = [...withKeda, secret!];

const one = (kind: string, name?: string): Manifest => {
  const found = all.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};
const configMap = one('ConfigMap');
const api = one('Deployment', 'mori-webhook-receiver-api');
const worker = one('Deployment', 'mori-webhook-receiver-worker');
const deployments = [api, worker];
const scaledObject = one('ScaledObject');

/** The image's WORKDIR, where relative paths (the file sink's data/orders.jsonl) resolve. */
const WORKDIR = '/app';
/**
 * Peak RSS under load on Node 26 with the image's NODE_OPTIONS (README, "Performance"): the api
 * in `npm run bench`, the worker in `npm run bench:pipeline`. Requests must cover them.
 */
const MEASURED_PEAK_RSS_MB: Record<string, number> = { api: 158, worker: 140 };

function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
const podLabels = (d: Manifest): Record<string, string> =>
  (d as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata
    .labels;

describe('the Kubernetes manifests in deploy/kubernetes', () => {
  it('are all applied by a kustomization, except the Secret example', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name).slice(KUBERNETES_DIR.length + 1)],
      );
    const applied = new Set(withKeda.map((m) => m.file));
    const rest = files(KUBERNETES_DIR).filter((f) => !applied.has(f) && !f.endsWith('kustomization.yaml'));
    expect(rest).toEqual(['secret.example.yaml']);
    expect(base.every((m) => applied.has(m.file))).toBe(true);
  });

  it.each(all.map((m) => [`${m.file}: ${m.kind} ${m.metadata.name}`, m] as const))(
    'validate against the Kubernetes schema: %s',
    (_name, manifest) => {
      expect(() => validate(manifest)).not.toThrow();
    },
  );

  it('are checked by a validator that rejects what the schema forbids', () => {
    const broken = structuredClone(api) as unknown as { spec: { template: { spec: { containers: object[] } } } };
    (broken.spec.template.spec.containers[0] as { ports: object[] }).ports = [{ containerPort: 'eighty' }];
    expect(() => validate(broken as unknown as Manifest)).toThrow(/containerPort must be integer/);
    const noTarget = structuredClone(scaledObject) as unknown as { spec: Record<string, unknown> };
    delete noTarget.spec.scaleTargetRef;
    expect(() => validate(noTarget as unknown as Manifest)).toThrow(/scaleTargetRef/);
  });

  it('set only variables the configuration schema knows (env, ConfigMap data, Secret keys)', () => {
    const names = [
      ...Object.keys(configMap.data as object),
      ...Object.keys(secret!.stringData as object),
      ...deployments.flatMap((d) => podSpecOf(d).containers.flatMap((c) => (c.env ?? []).map((v) => v.name))),
    ];
    expect(names.length).toBeGreaterThan(8);
    expect(names.filter((n) => !CONFIG_VARIABLES.includes(n))).toEqual([]);
    // Every value is valid on its own, too.
    expect(() => parseEnv({ ...(configMap.data as object), ...(secret!.stringData as object) })).not.toThrow();
  });

  it.each([
    ['api', api],
    ['worker', worker],
  ] as const)('give the %s a configuration that loads, listening on 0.0.0.0 for its role', (role, d) => {
    const [container] = podSpecOf(d).containers;
    const config = loadConfig(resolveEnv(container!, all));
    expect(config.ROLE).toBe(role);
    expect(config.HOST).toBe('0.0.0.0');
    expect(container!.ports).toEqual([{ name: 'http', containerPort: config.PORT }]);
  });

  it.each(deployments.map((d) => [d.metadata.name, d] as const))(
    '%s: a grace period above its shutdown timeout and any preStop pause',
    (_name, d) => {
      const spec = podSpecOf(d);
      const [container] = spec.containers;
      const config = loadConfig(resolveEnv(container!, all));
      const preStop = container!.lifecycle?.preStop?.exec?.command;
      const pauseMs = preStop ? Number(preStop[1]) * 1000 : 0;
      if (preStop) expect(preStop[0]).toBe('sleep');
      expect(spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(config.SHUTDOWN_TIMEOUT_MS + pauseMs);
      // And above the default, so the manifests do not lean on the ConfigMap lowering it.
      expect(spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(parseEnv({}).SHUTDOWN_TIMEOUT_MS + pauseMs);
    },
  );

  it.each(deployments.map((d) => [d.metadata.name, d] as const))(
    '%s: liveness on /healthz, readiness on /readyz, on the http port',
    (_name, d) => {
      const [container] = podSpecOf(d).containers;
      expect(container!.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container!.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container!.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    },
  );

  it.each(deployments.map((d) => [d.metadata.name, d] as const))(
    '%s: non-root, read-only root filesystem, no privilege escalation, no capabilities',
    (_name, d) => {
      const spec = podSpecOf(d);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const c of spec.containers) {
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        for (const mount of c.volumeMounts ?? []) {
          expect(spec.volumes?.find((v) => v.name === mount.name)?.emptyDir, mount.name).toBeDefined();
        }
      }
    },
  );

  it("mounts a writable volume where the worker's file sinks write", () => {
    const [container] = podSpecOf(worker).containers;
    const config = loadConfig(resolveEnv(container!, all));
    const fileSinks = config.sinks.filter((s) => s.type === 'file');
    expect(fileSinks.length).toBeGreaterThan(0);
    for (const sink of fileSinks) {
      const dir = posix.dirname(posix.resolve(WORKDIR, sink.path));
      expect(container!.volumeMounts?.some((m) => dir === m.mountPath || dir.startsWith(`${m.mountPath}/`))).toBe(true);
    }
  });

  it.each([
    ['api', api],
    ['worker', worker],
  ] as const)('request CPU and memory for the %s above its measured peak RSS, with limits', (role, d) => {
    const { requests, limits } = podSpecOf(d).containers[0]!.resources!;
    expect(requests?.cpu).toBeDefined();
    expect(limits?.cpu).toBeDefined();
    expect(mebibytes(requests!.memory!) * 1.048576).toBeGreaterThan(MEASURED_PEAK_RSS_MB[role]!);
    expect(mebibytes(limits!.memory!)).toBeGreaterThan(mebibytes(requests!.memory!));
  });

  it('have a PodDisruptionBudget for each Deployment, and a Service that selects the api', () => {
    const pdbs = all.filter((m) => m.kind === 'PodDisruptionBudget');
    for (const d of deployments) {
      const covering = pdbs.filter((p) =>
        labelsMatch(
          (p as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector.matchLabels,
          podLabels(d),
        ),
      );
      expect(covering, d.metadata.name).toHaveLength(1);
    }
    const service = one('Service') as unknown as {
      spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
    };
    expect(labelsMatch(service.spec.selector, podLabels(api))).toBe(true);
    expect(labelsMatch(service.spec.selector, podLabels(worker))).toBe(false);
    expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
  });

  it('expose only the webhook path through the Ingress, matched exactly', () => {
    const config = loadConfig(resolveEnv(podSpecOf(api).containers[0]!, all));
    const ingress = one('Ingress') as unknown as {
      spec: {
        rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] } }[];
      };
    };
    const paths = ingress.spec.rules.flatMap((r) => r.http.paths);
    expect(paths.map((p) => [p.path, p.pathType, p.backend.service.name])).toEqual([
      [config.WEBHOOK_PATH, 'Exact', one('Service').metadata.name],
    ]);
  });

  it("scale the worker with KEDA on the queues' wait lists and the intake, named as the code names them for this prefix", () => {
    const { REDIS_PREFIX } = parseEnv(configMap.data as Record<string, string>);
    const spec = (
      scaledObject as unknown as {
        spec: {
          scaleTargetRef: { name: string };
          minReplicaCount: number;
          triggers: { type: string; metadata: { listName?: string; stream?: string } }[];
        };
      }
    ).spec;
    expect(spec.scaleTargetRef.name).toBe(worker.metadata.name);
    // One worker always runs: it also sweeps for missed events.
    expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(spec.triggers.map((t) => [t.type, t.metadata.listName ?? t.metadata.stream])).toEqual([
      ['redis', `${REDIS_PREFIX}:${EVENTS_QUEUE}:wait`],
      ['redis', `${REDIS_PREFIX}:${DELIVERIES_QUEUE}:wait`],
      ['redis-streams', intakeKey(REDIS_PREFIX)],
    ]);
    // KEDA owns the worker's replica count; a replicas field would reset it on every apply.
    expect((worker as unknown as { spec: { replicas?: number } }).spec.replicas).toBeUndefined();
  });
});
