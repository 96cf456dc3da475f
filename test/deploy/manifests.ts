// Helpers of the deploy/ tests: Kubernetes schema validation through
// kubernetes-models, and the consistency checks between the objects, the
// server's flags and its probe endpoints.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import YAML from 'yaml';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { addServeCommand } from '../../server/commands/serve.js';
import { parseModelServerConfig } from '../../server/config_file.js';
import { LIVENESS_PATH, READINESS_PATH } from '../../server/health.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHART = path.join(ROOT, 'deploy/helm/modelhost');
export const PLAIN = path.join(ROOT, 'deploy/kubernetes');

export type K8sObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MODELS: Record<string, new (obj: never) => { validate(): void }> = {
  'v1/ConfigMap': coreV1.ConfigMap,
  'v1/Secret': coreV1.Secret,
  'v1/Service': coreV1.Service,
  'apps/v1/Deployment': appsV1.Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscalingV2.HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': policyV1.PodDisruptionBudget,
};

/** Validates an object against the Kubernetes schema of its apiVersion/kind; throws naming it and the error. */
export function validateObject(obj: K8sObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`No schema for ${key} (${obj.metadata?.name}): add it to MODELS in test/deploy/manifests.ts`);
  try {
    new Model(obj as never).validate();
  } catch (e) {
    throw new Error(`${key} ${obj.metadata?.name} is not valid: ${(e as Error).message}`);
  }
}

/** The YAML documents of the plain manifests listed by deploy/kubernetes/kustomization.yaml. */
export function readPlainManifests(): K8sObject[] {
  const kustomization = YAML.parse(fs.readFileSync(path.join(PLAIN, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const listed = new Set(kustomization.resources);
  const onDisk = fs.readdirSync(PLAIN).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const unlisted = onDisk.filter((f) => !listed.has(f));
  if (unlisted.length) throw new Error(`deploy/kubernetes: ${unlisted.join(', ')} not listed in kustomization.yaml`);
  return kustomization.resources.flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(path.join(PLAIN, f), 'utf8'))
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null),
  );
}

export function only(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

export interface ParsedArgs {
  /** Parsed option values by commander's attribute name (e.g. shutdown_timeout_seconds). */
  opts: Record<string, unknown>;
}

/** Parses container args with `modelhost serve`'s own flag definitions; throws on a flag it does not accept or a bad value. */
export function parseServeArgs(args: readonly string[]): ParsedArgs {
  const program = new Command('modelhost');
  addServeCommand(program);
  const serve = program.commands.find((c) => c.name() === 'serve')!;
  let stderr = '';
  serve.exitOverride();
  serve.configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => {} });
  const passed: string[] = [];
  for (const a of args) {
    const m = /^--([a-z0-9_]+)(?:=(.*))?$/s.exec(a);
    if (!m) throw new Error(`container arg "${a}" is not a --flag=value`);
    passed.push(a);
  }
  let parsed: { operands: string[]; unknown: string[] };
  try {
    parsed = serve.parseOptions(passed);
  } catch (e) {
    if (e instanceof CommanderError) throw new Error(`modelhost serve refuses the args: ${stderr || e.message}`);
    throw e;
  }
  if (parsed.unknown.length || parsed.operands.length) throw new Error(`modelhost serve does not accept: ${[...parsed.unknown, ...parsed.operands].join(' ')}`);
  return { opts: serve.opts() };
}

const MIB: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, K: 1e3 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 };

/** A Kubernetes memory quantity in MiB. */
export function mebibytes(q: string | number): number {
  if (typeof q === 'number') return q / 2 ** 20;
  const m = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(q);
  if (!m) throw new Error(`unreadable memory quantity ${q}`);
  return Number(m[1]) * (m[2] ? MIB[m[2]] : 1 / 2 ** 20);
}

const isSubset = (sub: Record<string, string>, whole: Record<string, string>) => Object.entries(sub).every(([k, v]) => whole[k] === v);

/**
 * Checks that the objects of one deployment fit together and fit the server;
 * returns the problems found (empty: consistent).
 */
export function consistencyProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const fail = (m: string) => problems.push(m);
  const deployment = only(objects, 'Deployment');
  const pod = deployment.spec.template;
  const podLabels = pod.metadata.labels as Record<string, string>;
  const selector = deployment.spec.selector.matchLabels as Record<string, string>;
  if (!isSubset(selector, podLabels)) fail('Deployment selector does not match its pod labels');
  const containers = pod.spec.containers as K8sObject[];
  if (containers.length !== 1) fail(`expected one container, found ${containers.length}`);
  const c = containers[0];

  // The command is modelhost serve with flags it accepts.
  if (JSON.stringify(c.command) !== JSON.stringify(['modelhost', 'serve'])) fail(`container command is ${JSON.stringify(c.command)}, not ["modelhost","serve"]`);
  let args: ParsedArgs;
  try {
    args = parseServeArgs(c.args);
  } catch (e) {
    fail((e as Error).message);
    return problems;
  }
  const opts = args.opts;

  // Ports: the container's named ports are the ports the server listens on; the Service targets them.
  const ports = new Map<string, number>((c.ports as K8sObject[]).map((p) => [p.name, p.containerPort]));
  if (ports.get('rest') !== opts.rest_api_port) fail(`container port "rest" ${ports.get('rest')} != --rest_api_port ${opts.rest_api_port}`);
  if (ports.get('grpc') !== opts.port) fail(`container port "grpc" ${ports.get('grpc')} != --port ${opts.port}`);
  for (const service of objects.filter((o) => o.kind === 'Service')) {
    if (!isSubset(service.spec.selector, podLabels)) fail(`Service ${service.metadata.name} selects no pod of the Deployment`);
    for (const p of service.spec.ports as K8sObject[]) {
      if (!ports.has(p.targetPort)) fail(`Service port ${p.name} targets "${p.targetPort}", not a container port`);
    }
    const byName = new Map((service.spec.ports as K8sObject[]).map((p) => [p.name, p.port]));
    if (byName.get('rest') !== 8501 && service.spec.type === 'ClusterIP' && opts.rest_api_port === 8501) fail('Service does not expose REST on 8501');
    if (byName.get('grpc') !== 8500 && opts.port === 8500) fail('Service does not expose gRPC on 8500');
  }

  // Probes: on the REST port, at the paths the server answers for them.
  const probe = (name: string, want: string) => {
    const p = c[name]?.httpGet;
    if (!p) return fail(`no ${name} httpGet`);
    if (p.path !== want) fail(`${name} path ${p.path}, the server answers ${name === 'readinessProbe' ? 'readiness' : 'liveness'} at ${want}`);
    const port = typeof p.port === 'string' ? ports.get(p.port) : p.port;
    if (port !== opts.rest_api_port) fail(`${name} port ${p.port} is not the REST port`);
  };
  probe('livenessProbe', LIVENESS_PATH);
  probe('readinessProbe', READINESS_PATH);
  probe('startupProbe', LIVENESS_PATH);

  // The drain fits the grace period: preStop sleep, then --shutdown_timeout_seconds, then the server's 5 s hard-exit margin.
  const preStop = c.lifecycle?.preStop?.exec?.command as string[] | undefined;
  if (!preStop || preStop[0] !== 'sleep' || !/^\d+$/.test(preStop[1] ?? '')) fail(`preStop is ${JSON.stringify(preStop)}, expected ["sleep", N]`);
  const sleep = Number(preStop?.[1] ?? 0);
  const grace = pod.spec.terminationGracePeriodSeconds as number;
  const needed = sleep + (opts.shutdown_timeout_seconds as number) + 5;
  if (!(grace >= needed)) fail(`terminationGracePeriodSeconds ${grace} < preStop ${sleep} + --shutdown_timeout_seconds ${opts.shutdown_timeout_seconds} + 5`);

  // Resources: requests for the HPA's utilization; a memory limit that holds the workers' caps and the main thread.
  const res = c.resources ?? {};
  if (!res.requests?.cpu || !res.requests?.memory) fail('container has no CPU and memory requests');
  if (!res.limits?.memory) fail('container has no memory limit');
  else {
    const threads = opts.inference_threads as number;
    const perWorker = (opts.inference_worker_heap_mb as number) + (opts.inference_worker_wasm_mb as number);
    const need = threads * perWorker + 512;
    if (mebibytes(res.limits.memory) < need) fail(`memory limit ${res.limits.memory} < ${threads} workers x ${perWorker} MiB + 512 MiB`);
  }

  // Files the flags name live on mounted volumes, and come from the right keys.
  const volumes = new Map<string, K8sObject>((pod.spec.volumes as K8sObject[]).map((v) => [v.name, v]));
  const mounts = (c.volumeMounts ?? []) as K8sObject[];
  for (const m of mounts) if (!volumes.has(m.name)) fail(`volumeMount ${m.name} has no volume`);
  const mountOf = (file: string) => mounts.filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  const fileFlags: [string, unknown][] = [
    ['model_config_file', opts.model_config_file],
    ['monitoring_config_file', opts.monitoring_config_file],
    ['admin_token_file', opts.admin_token_file],
  ];
  // The cache holds versions of s3:// models only: it must be writable when the chart passes it.
  if (((c.args ?? []) as string[]).some((a) => a.startsWith('--model_cache_dir='))) fileFlags.push(['model_cache_dir', opts.model_cache_dir]);
  // Without $MODELHOST_REGISTRY_URL (PostgreSQL) the registry is the SQLite file.
  if (!(c.env ?? []).some((e: K8sObject) => e.name === 'MODELHOST_REGISTRY_URL')) fileFlags.push(['registry_path', opts.registry_path]);
  for (const [flag, file] of fileFlags) {
    if (typeof file !== 'string') continue;
    const m = mountOf(file);
    if (!m) {
      fail(`--${flag}=${file} is on no mounted volume (the root file system is read-only)`);
      continue;
    }
    const v = volumes.get(m.name)!;
    const inside = file.slice(m.mountPath.length + 1);
    if (v.configMap) {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap.name);
      if (!cm) fail(`--${flag}: ConfigMap ${v.configMap.name} is not among the objects`);
      else if (!(inside in cm.data)) fail(`--${flag}: ConfigMap ${v.configMap.name} has no key ${inside}`);
    } else if (v.secret) {
      const item = (v.secret.items as K8sObject[] | undefined)?.find((i) => i.path === inside);
      if (!item) fail(`--${flag}: secret volume ${m.name} has no item at ${inside}`);
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === v.secret.secretName);
      if (secret && item && !(item.key in { ...secret.data, ...secret.stringData })) fail(`--${flag}: Secret ${secret.metadata.name} has no key ${item.key}`);
    } else if (m.readOnly) {
      fail(`--${flag}=${file} is on a read-only mount`);
    }
  }
  if (c.securityContext?.readOnlyRootFilesystem && !mounts.some((m) => m.mountPath === '/tmp')) fail('read-only root file system without a /tmp volume');

  // Secrets named by the environment exist with those keys (unless an existing Secret outside the objects).
  for (const e of (c.env ?? []) as K8sObject[]) {
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
    if (secret && !(ref.key in { ...secret.data, ...secret.stringData })) fail(`env ${e.name}: Secret ${ref.name} has no key ${ref.key}`);
  }

  // The model list parses as the server parses it (s3:// base paths included).
  const configVolume = volumes.get(mountOf(String(opts.model_config_file))?.name ?? '');
  const cm = configVolume?.configMap && objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === configVolume.configMap.name);
  if (cm) {
    const text = cm.data[path.basename(String(opts.model_config_file))] as string;
    try {
      const models = parseModelServerConfig(text, String(opts.model_config_file));
      if (models.length === 0) fail('the model config lists no model');
    } catch (e) {
      fail(`the model config does not parse: ${(e as Error).message}`);
    }
  }

  // HPA and PDB point at this Deployment's pods.
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const t = hpa.spec.scaleTargetRef;
    if (t.kind !== 'Deployment' || t.name !== deployment.metadata.name || t.apiVersion !== 'apps/v1') fail(`HPA targets ${t.kind} ${t.name}`);
    if (!hpa.spec.metrics.some((m: K8sObject) => m.resource?.name === 'cpu')) fail('HPA does not scale on CPU');
    if (deployment.spec.replicas !== undefined) fail('Deployment sets replicas while an HPA owns them (every apply would reset the count)');
    if (hpa.spec.minReplicas < 2) fail('HPA minReplicas < 2: a single replica cannot survive a disruption');
  }
  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    if (!isSubset(pdb.spec.selector.matchLabels, podLabels)) fail('PDB selects no pod of the Deployment');
    const min = pdb.spec.minAvailable as number;
    const replicas = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')?.spec.minReplicas ?? deployment.spec.replicas ?? 1;
    if (typeof min === 'number' && min >= replicas) fail(`PDB minAvailable ${min} >= ${replicas} replicas: no node could ever be drained`);
  }
  return problems;
}
