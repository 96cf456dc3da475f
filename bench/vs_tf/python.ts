/**
 * Finding the Python with TensorFlow 2.21 that the `--vs-tf` part needs:
 * `--python=PATH`, else $MODELHOST_BENCH_PYTHON, else /work/tfvenv/bin/python
 * if it exists. Without one, the bench says how to make one.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';

export const PYTHON_ENV = 'MODELHOST_BENCH_PYTHON';
export const DEFAULT_PYTHONS = ['/work/tfvenv/bin/python'];
export const TF_VERSION = '2.21';

export const INSTALL_HINT = [
  `The --vs-tf part needs a Python with TensorFlow ${TF_VERSION}, FastAPI and uvicorn[standard]. Make one from the local package index (see \`pip config list\`):`,
  '',
  '  python3 -m venv /work/tfvenv',
  '  /work/tfvenv/bin/pip install --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple \\',
  "      tensorflow-cpu==2.21.0 fastapi 'uvicorn[standard]'",
  '',
  `then run \`npm run bench -- --vs-tf --python=/work/tfvenv/bin/python\` (or set ${PYTHON_ENV}).`,
].join('\n');

export interface PythonInfo {
  python: string;
  tf: string;
  fastapi: string;
  uvicorn: string;
  httptools: string;
  uvloop: string;
}

function run(python: string, code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', code], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${python}: ${stderr.trim().split('\n').slice(-3).join(' ') || err.message}`));
      else resolve(stdout);
    });
  });
}

const PROBE = `
import json, importlib
out = {}
for m in ["tensorflow", "fastapi", "uvicorn", "httptools", "uvloop"]:
    try:
        out[m] = importlib.import_module(m).__version__
    except Exception as e:
        out[m] = None
print(json.dumps(out))
`;

/** The Python to use, checked; throws an Error whose message says how to install one. */
export async function findPython(given: string | undefined): Promise<PythonInfo> {
  const candidates = given ? [given] : process.env[PYTHON_ENV] ? [process.env[PYTHON_ENV]] : DEFAULT_PYTHONS.filter((p) => fs.existsSync(p));
  if (candidates.length === 0) throw new Error(`No Python with TensorFlow found.\n${INSTALL_HINT}`);
  const python = candidates[0];
  let versions: Record<string, string | null>;
  try {
    versions = JSON.parse((await run(python, PROBE)).trim().split('\n').pop() ?? '{}') as Record<string, string | null>;
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${INSTALL_HINT}`);
  }
  const missing = Object.entries(versions).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) throw new Error(`${python} lacks ${missing.join(', ')}.\n${INSTALL_HINT}`);
  if (!versions.tensorflow!.startsWith(`${TF_VERSION}.`)) throw new Error(`${python} has TensorFlow ${versions.tensorflow}, not ${TF_VERSION}.\n${INSTALL_HINT}`);
  return { python, tf: versions.tensorflow!, fastapi: versions.fastapi!, uvicorn: versions.uvicorn!, httptools: versions.httptools!, uvloop: versions.uvloop! };
}
