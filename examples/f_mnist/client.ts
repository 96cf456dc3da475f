/**
 * `npm run example:f_mnist:client -- [--url URL] [--version N] [--count N] [--batch N] [--show N] [--signature NAME] [--write-request FILE]`
 *
 * Sends real held-out Fashion-MNIST images (web-safe base64 PNGs) to a
 * running server, the way the article's client does:
 *
 *   POST {url}/v1/models/f_mnist/versions/{version}:predict
 *   {"instances": ["<b64>", ...]}  →  {"predictions": ["Ankle boot", ...]}
 *
 * and prints predicted vs true labels and the accuracy over `--count`
 * images (default 100; 10000 for the whole held-out set). With
 * `--write-request FILE` it only writes the JSON body for `--count` images,
 * for use with curl.
 */
import fs from 'node:fs';
import { CLASS_NAMES, heldOutImages, imageB64 } from './data.js';

interface Args {
  url: string;
  model: string;
  version: string;
  signature?: string;
  count: number;
  batch: number;
  show: number;
  writeRequest?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { url: 'http://localhost:8501', model: 'f_mnist', version: '2', count: 100, batch: 100, show: 10 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--url':
        args.url = value().replace(/\/+$/, '');
        break;
      case '--model':
        args.model = value();
        break;
      case '--version':
        args.version = value();
        break;
      case '--signature':
        args.signature = value();
        break;
      case '--count':
        args.count = Number(value());
        break;
      case '--batch':
        args.batch = Number(value());
        break;
      case '--show':
        args.show = Number(value());
        break;
      case '--write-request':
        args.writeRequest = value();
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  for (const k of ['count', 'batch', 'show'] as const) {
    if (!Number.isInteger(args[k]) || args[k] < (k === 'batch' ? 1 : 0)) throw new Error(`--${k} must be a ${k === 'batch' ? 'positive' : 'non-negative'} integer`);
  }
  return args;
}

async function predict(args: Args, instances: string[]): Promise<unknown[]> {
  const url = `${args.url}/v1/models/${args.model}/versions/${args.version}:predict`;
  const body = JSON.stringify(args.signature ? { signature_name: args.signature, instances } : { instances });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} → HTTP ${res.status}: ${text}`);
  const json = JSON.parse(text) as { predictions?: unknown[] };
  if (!Array.isArray(json.predictions)) throw new Error(`POST ${url}: no "predictions" in ${text.slice(0, 200)}`);
  return json.predictions;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const test = heldOutImages();
  const count = Math.min(args.count, test.count);
  if (args.writeRequest) {
    const instances = Array.from({ length: count }, (_, i) => imageB64(test, i));
    fs.writeFileSync(args.writeRequest, JSON.stringify({ instances }));
    console.log(`wrote ${count} held-out images to ${args.writeRequest}; true labels: ${Array.from(test.labels.subarray(0, count), (l) => CLASS_NAMES[l]).join(', ')}`);
    return;
  }
  const predictions: unknown[] = [];
  for (let start = 0; start < count; start += args.batch) {
    const n = Math.min(args.batch, count - start);
    predictions.push(...(await predict(args, Array.from({ length: n }, (_, i) => imageB64(test, start + i)))));
  }
  if (args.signature && args.signature !== 'serving_default') {
    console.log(JSON.stringify(predictions.slice(0, args.show), null, 1));
    return;
  }
  let correct = 0;
  predictions.forEach((p, i) => {
    const truth = CLASS_NAMES[test.labels[i]];
    if (p === truth) correct++;
    if (i < args.show) console.log(`${String(i).padStart(5)}  predicted ${String(p).padEnd(12)} true ${truth.padEnd(12)} ${p === truth ? 'ok' : 'WRONG'}`);
  });
  console.log(`accuracy: ${(correct / Math.max(count, 1)).toFixed(4)} (${correct}/${count} held-out images, ${args.model} version ${args.version} at ${args.url})`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
