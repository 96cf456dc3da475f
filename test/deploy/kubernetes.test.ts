// deploy/: the Helm chart (rendered here by helm_subset.ts, Helm not being
// installed) and the plain manifests, validated against the Kubernetes schemas
// (kubernetes-models) and checked for consistency with each other and with the
// server: flags `modelhost serve` accepts, ports, probe paths the server
// answers, a drain that fits the grace period, secrets and config keys that
// exist. The rendered container command is then run here as the pod would
// run it, and the image's TF-Serving-style entry point is exercised.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServeProcess } from '../../scripts/serve_process.js';
import { LIVENESS_PATH, READINESS_PATH } from '../../server/health.js';
import { renderChart } from './helm_subset.js';
import { example, VALUE_SETS } from './value_sets.js';
import { CHART, consistencyProblems, only, parseServeArgs, readPlainManifests, ROOT, validateObject, type K8sObject } from './manifests.js';

const render = (values: Record<string, unknown> = {}, releaseName = 'modelhost') => renderChart(CHART, { releaseName, values });
const kinds = (objects: K8sObject[]) => objects.map((o) => o.kind).sort();
const clone = <T>(v: T): T => structuredClone(v);

describe('Helm chart deploy/helm/modelhost', () => {
  it("deploys package.json's version (appVersion) on TF Serving's ports", () => {
    const chart = YAML.parse(fs.readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe(pkg.version);
    const deployment = only(render().objects, 'Deployment');
    expect(deployment.spec.template.spec.containers[0].image).toBe(`modelhost:${pkg.version}`);
  });

  for (const [name, values] of Object.entries(VALUE_SETS)) {
    it(`renders valid, consistent objects with ${name}`, () => {
      const { objects } = render(values);
      expect(objects.length).toBeGreaterThanOrEqual(3);
      for (const o of objects) validateObject(o);
      expect(consistencyProblems(objects)).toEqual([]);
    });
  }

  it('standalone by default: one replica, SQLite on the data volume, no Secret, autoscaler or budget', () => {
    const { objects, files } = render();
    expect(kinds(objects)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    const d = only(objects, 'Deployment');
    expect(d.spec.replicas).toBe(1);
    const args = parseServeArgs(d.spec.template.spec.containers[0].args).opts;
    expect(args.registry_path).toBe('/var/lib/modelhost/registry.db');
    expect(args.model_config_file).toBe('/etc/modelhost/config/models.config');
    expect(files.get('NOTES.txt')).toContain('through `kubectl port-forward`');
  });

  it('scale-out example: PostgreSQL URL and S3 keys in the Secret, handed over as environment, HPA on CPU and a PDB', () => {
    const values = example('scaleout.yaml') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const { objects } = render(values);
    expect(kinds(objects)).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service']);
    const secret = only(objects, 'Secret');
    const decoded = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(decoded).toEqual({
      'admin-token': values.adminToken.value,
      'registry-url': values.registry.postgresql.url,
      AWS_ACCESS_KEY_ID: values.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: values.s3.secretAccessKey,
    });
    const c = only(objects, 'Deployment').spec.template.spec.containers[0];
    const env = Object.fromEntries((c.env as K8sObject[]).map((e) => [e.name, e.value ?? `${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`]));
    expect(env).toEqual({
      MODELHOST_REGISTRY_URL: 'modelhost/registry-url',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: values.s3.endpoint,
      AWS_ACCESS_KEY_ID: 'modelhost/AWS_ACCESS_KEY_ID',
      AWS_SECRET_ACCESS_KEY: 'modelhost/AWS_SECRET_ACCESS_KEY',
    });
    const parsed = parseServeArgs(c.args);
    expect(parsed.opts.registry_path).toBe('data/registry.db'); // not passed: the registry is PostgreSQL
    expect(c.args).not.toContain('--registry_path=/var/lib/modelhost/registry.db');
    expect(parsed.opts.model_cache_dir).toBe('/var/cache/modelhost');
    expect(parsed.opts.require_admin_token).toBe(true);
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics[0].resource.target.averageUtilization]).toEqual([2, 10, 70]);
  });

  it('a data claim switches to the Recreate strategy; an admin token from an existing Secret is mounted from it', () => {
    const d = only(render(VALUE_SETS['every option']).objects, 'Deployment');
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    const volumes = Object.fromEntries((d.spec.template.spec.volumes as K8sObject[]).map((v) => [v.name, v]));
    expect(volumes['admin-token'].secret).toEqual({ secretName: 'tokens', defaultMode: 0o440, items: [{ key: 'token', path: 'admin-token' }] });
    expect(volumes.data.persistentVolumeClaim.claimName).toBe('modelhost-data');
  });

  it('refuses values that cannot work, saying why', () => {
    expect(() => render({ replicaCount: 2 })).toThrow(/needs registry\.postgresql\.enabled/);
    expect(() => render({ autoscaling: { enabled: true } })).toThrow(/needs registry\.postgresql\.enabled/);
    expect(() => render({ registry: { postgresql: { enabled: true } } })).toThrow(/needs registry\.postgresql\.url or registry\.postgresql\.existingSecret/);
    expect(() => render({ adminToken: { require: true } })).toThrow(/adminToken\.require needs/);
    expect(() => render({ s3: { enabled: true, accessKeyId: 'k' } })).toThrow(/without s3\.secretAccessKey/);
    expect(() => render({ modelConfig: '' })).toThrow(/modelConfig .* is required/);
  });

  it('names objects after the release, and does not repeat the chart name', () => {
    expect(only(render({}, 'prod').objects, 'Deployment').metadata.name).toBe('prod-modelhost');
    expect(only(render({}, 'modelhost-eu').objects, 'Deployment').metadata.name).toBe('modelhost-eu');
  });
});

describe('the consistency check', () => {
  // It must catch the mistakes it is there for.
  const base = () => clone(render(example('scaleout.yaml')).objects);
  const container = (objects: K8sObject[]) => only(objects, 'Deployment').spec.template.spec.containers[0];
  const cases: [string, (o: K8sObject[]) => void, RegExp][] = [
    ['a readiness path the server does not answer', (o) => (container(o).readinessProbe.httpGet.path = '/v2/health/ready'), /readinessProbe path/],
    ['a flag serve does not accept', (o) => container(o).args.push('--rest_api_prot=8501'), /does not accept: --rest_api_prot/],
    ['a bad flag value', (o) => container(o).args.push('--shutdown_timeout_seconds=soon'), /refuses the args/],
    ['a grace period shorter than the drain', (o) => (only(o, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 30), /terminationGracePeriodSeconds 30/],
    ['a Service port aimed at no container port', (o) => (only(o, 'Service').spec.ports[0].targetPort = 'http'), /targets "http"/],
    ['a selector that misses the pods', (o) => (only(o, 'Service').spec.selector = { app: 'other' }), /selects no pod/],
    ['a container port that is not the server\'s', (o) => (container(o).ports[0].containerPort = 8080), /"rest" 8080 != --rest_api_port 8501/],
    ['a config file on no volume', (o) => container(o).volumeMounts.splice(0, 1), /--model_config_file=.* is on no mounted volume/],
    ['too small a memory limit', (o) => (container(o).resources.limits.memory = '2Gi'), /memory limit 2Gi/],
    ['a missing Secret key', (o) => delete only(o, 'Secret').data['registry-url'], /Secret modelhost has no key registry-url/],
    ['replicas beside an HPA', (o) => (only(o, 'Deployment').spec.replicas = 3), /sets replicas while an HPA/],
  ];
  for (const [what, mutate, want] of cases) {
    it(`reports ${what}`, () => {
      const objects = base();
      mutate(objects);
      expect(consistencyProblems(objects).join('\n')).toMatch(want);
    });
  }
  it('and the schema validation rejects a wrong type', () => {
    const objects = base();
    container(objects).ports[0].containerPort = '8501';
    expect(() => validateObject(only(objects, 'Deployment'))).toThrow(/containerPort must be integer/);
  });
});

describe('plain manifests deploy/kubernetes', () => {
  it('validate, are consistent, and describe the same pods as the chart with the scale-out values', () => {
    const plain = readPlainManifests();
    for (const o of plain) validateObject(o);
    expect(kinds(plain)).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service']);
    expect(consistencyProblems(plain)).toEqual([]);

    const configMap = only(plain, 'ConfigMap');
    const values = { ...example('scaleout.yaml'), image: { repository: 'modelhost', tag: '0.1.0' }, modelConfig: configMap.data['models.config'] };
    const chart = render(values).objects;
    const pick = (objects: K8sObject[]) => {
      const d = only(objects, 'Deployment');
      const { image, ...container } = d.spec.template.spec.containers[0];
      void image;
      const { labels, annotations, ...podMeta } = d.spec.template.metadata;
      void podMeta;
      delete (annotations as Record<string, string>)['checksum/secret'];
      return {
        selector: d.spec.selector,
        strategy: d.spec.strategy,
        replicas: d.spec.replicas,
        podLabels: labels,
        annotations,
        spec: { ...d.spec.template.spec, containers: [container] },
        service: only(objects, 'Service').spec,
        hpa: only(objects, 'HorizontalPodAutoscaler').spec,
        pdb: only(objects, 'PodDisruptionBudget').spec,
        configMap: only(objects, 'ConfigMap').data,
        secretKeys: Object.keys({ ...only(objects, 'Secret').data, ...only(objects, 'Secret').stringData }).sort(),
      };
    };
    expect(pick(plain)).toEqual(pick(chart));
  });
});

describe("TF Serving's resnet_k8s.yaml for modelhost (deploy/kubernetes/examples)", () => {
  it("validates, and its probes and Service ports meet the image's server on 8501/8500", () => {
    const objects = YAML.parseAllDocuments(fs.readFileSync(path.join(ROOT, 'deploy/kubernetes/examples/resnet_k8s.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
    for (const o of objects) validateObject(o);
    const d = only(objects, 'Deployment');
    const service = only(objects, 'Service');
    expect(d.spec.replicas).toBe(3);
    expect(service.spec.type).toBe('LoadBalancer');
    expect(Object.entries(service.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v)).toBe(true);
    const c = d.spec.template.spec.containers[0];
    // No command: the image's entry point runs modelhost serve --port=$GRPC_PORT --rest_api_port=$PORT.
    expect(c.command).toBeUndefined();
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/GRPC_PORT=8500/);
    expect(dockerfile).toMatch(/\bPORT=8501/);
    const ports = new Map((c.ports as K8sObject[]).map((p) => [p.name, p.containerPort]));
    expect([ports.get('grpc'), ports.get('rest')]).toEqual([8500, 8501]);
    expect([c.livenessProbe.httpGet.path, c.startupProbe.httpGet.path, c.readinessProbe.httpGet.path]).toEqual([LIVENESS_PATH, LIVENESS_PATH, READINESS_PATH]);
    for (const probe of [c.livenessProbe, c.startupProbe, c.readinessProbe]) expect(probe.httpGet.port).toBe('rest');
    for (const p of service.spec.ports as K8sObject[]) expect([...ports.values()]).toContain(p.targetPort);
  });
});

describe('the rendered container, run here', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-k8s-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('starts with the chart\'s args and ConfigMap, answers its probes and the metrics path, and drains on SIGTERM', async () => {
    const { objects } = render();
    const d = only(objects, 'Deployment');
    const c = d.spec.template.spec.containers[0];
    // The pod's file system, here: the image's /app is this checkout (the Dockerfile's WORKDIR), volumes are temp folders.
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    const mapping: [string, string][] = [['/app/', `${ROOT}/`]];
    for (const m of c.volumeMounts as K8sObject[]) mapping.push([m.mountPath, path.join(tmp, m.name)]);
    // One mapping per path, the longest matching prefix (a checkout under /tmp must not be mapped again by a /tmp volume).
    const local = (p: string) => {
      const hit = mapping.filter(([from]) => p === from || p.startsWith(from.endsWith('/') ? from : `${from}/`)).sort((a, b) => b[0].length - a[0].length)[0];
      return hit ? hit[1] + p.slice(hit[0].length) : p;
    };
    const configMap = only(objects, 'ConfigMap');
    const configDir = local('/etc/modelhost/config');
    fs.mkdirSync(configDir, { recursive: true });
    for (const [key, text] of Object.entries(configMap.data as Record<string, string>)) {
      fs.writeFileSync(path.join(configDir, key), text.replace(/base_path: "([^"]+)"/g, (_m, p: string) => `base_path: "${local(p)}"`));
    }
    const args = (c.args as string[])
      .filter((a) => !a.startsWith('--port=') && !a.startsWith('--rest_api_port='))
      .map((a) => a.replace(/^(--[a-z_]+=)(\/.*)$/, (_m, flag: string, p: string) => flag + local(p)));
    const server = await startServeProcess(args, { cwd: tmp, timeoutMs: 90_000 });
    try {
      const get = (p: string) => fetch(server.url + p);
      expect((await get(c.livenessProbe.httpGet.path)).status).toBe(200);
      // As the kubelet does: probe until ready (the model loads after the port opens), within the probe's budget.
      let ready = await get(c.readinessProbe.httpGet.path);
      for (let i = 0; i < 600 && ready.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await get(c.readinessProbe.httpGet.path);
      }
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true, models: ['f_mnist'] });
      const metrics = await get(d.spec.template.metadata.annotations['prometheus.io/path']);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^modelhost_model_versions\{model="f_mnist",state="AVAILABLE"\} [1-9]\d*$/m);
    } finally {
      // SIGTERM, as the kubelet sends after the preStop hook: a clean exit well within the grace period.
      const started = Date.now();
      expect(await server.stop(d.spec.template.spec.terminationGracePeriodSeconds * 1000)).toBe(0);
      expect(Date.now() - started).toBeLessThan(30_000);
    }
  }, 120_000);
});

describe('the image entry point (deploy/docker/entrypoint.sh)', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-entry-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const ENTRY = path.join(ROOT, 'deploy/docker/entrypoint.sh');
  const run = (args: string[], env: Record<string, string>) => {
    const proc = spawn('sh', [ENTRY, ...args], {
      cwd: tmp,
      env: { PATH: process.env.PATH ?? '', MODELHOST_BIN: `${process.execPath} ${path.join(ROOT, 'bin/modelhost.js')}`, ...env },
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    return { proc, output: () => out, exited };
  };
  const restPort = async (p: ReturnType<typeof run>) => {
    for (let i = 0; i < 1200; i++) {
      const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(p.output());
      if (m) return Number(m[1]);
      if (p.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the entry point did not start a server:\n${p.output()}`);
  };

  it("serves $MODEL_BASE_PATH/$MODEL_NAME as TF Serving's image does, with extra flags appended", async () => {
    fs.cpSync(path.join(ROOT, 'models/f_mnist/1'), path.join(tmp, 'models/fashion/1'), { recursive: true });
    const p = run(['--rest_api_host=127.0.0.1', '--registry_path=:memory:'], { MODEL_BASE_PATH: path.join(tmp, 'models'), MODEL_NAME: 'fashion', PORT: '0', GRPC_PORT: '0' });
    try {
      const port = await restPort(p);
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/fashion`);
      expect(await res.json()).toEqual({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    } finally {
      p.proc.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  }, 90_000);

  it('leaves MODEL_NAME/MODEL_BASE_PATH out when the args give --model_config_file, and runs a non-flag first argument as a command', async () => {
    fs.cpSync(path.join(ROOT, 'models/f_mnist/2'), path.join(tmp, 'm/2'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'models.config'), `model_config_list { config { name: "cfg" base_path: "${path.join(tmp, 'm')}" model_platform: "tensorflow" } }`);
    const p = run(['--rest_api_host=127.0.0.1', '--registry_path=:memory:', `--model_config_file=${path.join(tmp, 'models.config')}`], { PORT: '0', GRPC_PORT: '0' });
    try {
      const port = await restPort(p);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const status = (await (await fetch(`http://127.0.0.1:${port}/v1/models/cfg`)).json()) as { model_version_status: { state: string }[] };
      expect(status.model_version_status[0].state).toBe('AVAILABLE');
    } finally {
      p.proc.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
    const echo = run(['echo', 'a command'], {});
    expect(await echo.exited).toBe(0);
    expect(echo.output()).toBe('a command\n');
  }, 90_000);
});
