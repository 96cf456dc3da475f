// The values the deploy/ tests render the chart with: every values file the
// chart ships, and one set that turns every option on.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { CHART } from './manifests.js';

export const example = (name: string) => YAML.parse(fs.readFileSync(path.join(CHART, 'examples', name), 'utf8')) as Record<string, unknown>;

/** Every values file we ship, and one that turns on every option. */
export const VALUE_SETS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'examples/scaleout.yaml': example('scaleout.yaml'),
  'examples/resnet.yaml': example('resnet.yaml'),
  'every option': {
    image: { repository: 'r.example/modelhost', tag: 'dev', pullPolicy: 'Always' },
    imagePullSecrets: [{ name: 'pull' }],
    replicaCount: 1,
    service: { type: 'NodePort', annotations: { a: 'b' } },
    data: { existingClaim: 'modelhost-data' },
    modelsVolume: { existingClaim: 'models', mountPath: '/models' },
    modelConfig: 'model_config_list { config { name: "m" base_path: "/models/m" model_platform: "tensorflow" } }',
    adminToken: { existingSecret: 'tokens', existingSecretKey: 'token', require: true },
    trustedProxies: '10.0.0.0/8',
    s3: { enabled: true, existingSecret: 's3-keys', verifySsl: false, endpoint: 'https://minio.local:9000' },
    metrics: { enabled: false },
    extraArgs: ['--enable_batching=true', '--max_loaded_versions=2'],
    extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1024' }],
    // YAML 1.1 booleans ("y", "on") and a list inside a map: where toYaml's output format matters.
    podAnnotations: { x: 'y', on: 'off' },
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'no'] }] }] } } },
    podLabels: { team: 'ml' },
    nodeSelector: { 'kubernetes.io/arch': 'amd64' },
    tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
  },
};

/** Values the chart must refuse (helm template fails on them). */
export const REFUSED_VALUE_SETS: Record<string, Record<string, unknown>> = {
  'two replicas on SQLite': { replicaCount: 2 },
  'autoscaling on SQLite': { autoscaling: { enabled: true } },
  'PostgreSQL without a URL': { registry: { postgresql: { enabled: true } } },
  'a required token missing': { adminToken: { require: true } },
  'an S3 key without its secret': { s3: { enabled: true, accessKeyId: 'k' } },
  'no model config': { modelConfig: '' },
};
