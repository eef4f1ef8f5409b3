import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '../..');
export const KUBERNETES_DIR = join(root, 'deploy/kubernetes');

export interface Manifest {
  /** The file it came from, relative to deploy/kubernetes. */
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface Kustomization {
  resources?: string[];
}

/**
 * Every document a kustomization applies, following `resources` into other kustomizations (what
 * `kubectl apply -k` reads; this project's kustomizations add only labels and an image tag on top).
 */
export function kustomizationManifests(dir: string): Manifest[] {
  const kustomization = readYaml<Kustomization>(join(dir, 'kustomization.yaml'))[0]!;
  return (kustomization.resources ?? []).flatMap((entry) => {
    const path = join(dir, entry);
    if (!existsSync(path)) throw new Error(`${join(dir, 'kustomization.yaml')} lists ${entry}, which does not exist`);
    return existsSync(join(path, 'kustomization.yaml')) ? kustomizationManifests(path) : manifestsIn(path);
  });
}

export function manifestsIn(path: string): Manifest[] {
  const file = path.slice(KUBERNETES_DIR.length + 1);
  return readYaml<Record<string, unknown>>(path).map((doc) => ({ ...doc, file }) as Manifest);
}

function readYaml<T>(path: string): T[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as T;
  });
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

export interface Container {
  name: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}

export interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: object }[];
}

export function podSpecOf(deployment: Manifest): PodSpec {
  return (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

/**
 * The environment a container gets, as the kubelet builds it: envFrom first, then env, which wins.
 * References resolve against the given ConfigMaps and Secrets; an optional reference to a key that
 * is missing leaves the variable unset, a required one throws.
 */
export function resolveEnv(container: Container, objects: readonly Manifest[]): Record<string, string> {
  const data = (kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found)
      throw new Error(`container ${container.name} refers to ${kind} ${name}, which is not among the manifests`);
    return (kind === 'ConfigMap' ? found.data : found.stringData) as Record<string, string>;
  };
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, data('ConfigMap', from.configMapRef.name));
    if (from.secretRef) Object.assign(env, data('Secret', from.secretRef.name));
  }
  for (const v of container.env ?? []) {
    const ref = v.valueFrom?.secretKeyRef ?? v.valueFrom?.configMapKeyRef;
    if (!ref) {
      env[v.name] = v.value ?? '';
      continue;
    }
    const value = data(v.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name)[ref.key];
    if (value !== undefined) env[v.name] = value;
    else if (!ref.optional)
      throw new Error(`${container.name}: ${v.name} refers to missing key ${ref.key} of ${ref.name}`);
  }
  return env;
}

/** The Secret's example, kept out of the kustomization so an apply never overwrites real values. */
export const SECRET_EXAMPLE = join(KUBERNETES_DIR, 'secret.example.yaml');
export const BASE_DIR = join(KUBERNETES_DIR, 'base');
export const KEDA_DIR = join(KUBERNETES_DIR, 'keda');
