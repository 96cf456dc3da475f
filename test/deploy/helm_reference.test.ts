// Cross-checks the test-only renderer (helm_subset.ts) against Go's own
// text/template and sprig, wired as Helm's engine wires them
// (tools/helm_reference/main.go, built from Debian's golang-go and Go
// library packages, which .ci/run installs): every template of the chart,
// with every values set the tests use and two release names, must render
// byte for byte the same, and the values the chart refuses must fail in both.
// Without Go this suite is skipped locally and fails in CI.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from './helm_subset.js';
import { CHART, ROOT } from './manifests.js';
import { REFUSED_VALUE_SETS, VALUE_SETS } from './value_sets.js';

const GOPATH = '/usr/share/gocode';
const haveGo = (() => {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return fs.existsSync(path.join(GOPATH, 'src/github.com/Masterminds/sprig')) && fs.existsSync(path.join(GOPATH, 'src/sigs.k8s.io/yaml'));
  } catch {
    return false;
  }
})();

if (!haveGo && process.env.CI) {
  it('has Go and the sprig and sigs.k8s.io/yaml sources (.ci/run installs golang-go, golang-github-masterminds-sprig-dev, golang-k8s-sigs-yaml-dev)', () => {
    expect(haveGo).toBe(true);
  });
}

describe.skipIf(!haveGo)('the chart rendered by helm_subset.ts and by Go text/template + sprig', () => {
  let tmp: string;
  let binary: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-helm-ref-'));
    binary = path.join(tmp, 'helm_reference');
    execFileSync('go', ['build', '-o', binary, './tools/helm_reference'], {
      cwd: ROOT,
      env: { ...process.env, GOPATH, GO111MODULE: 'off', GOFLAGS: '', GOCACHE: process.env.GOCACHE ?? path.join(os.tmpdir(), 'modelhost-go-cache') },
      stdio: 'pipe',
    });
    return () => fs.rmSync(tmp, { recursive: true, force: true });
  }, 180_000);

  /** template file → rendered text, or the error text ("ERROR: ..."). */
  function reference(values: Record<string, unknown>, release: string): Map<string, string> {
    const file = path.join(tmp, 'values.json');
    fs.writeFileSync(file, JSON.stringify(values));
    const out = execFileSync(binary, [CHART, release, file], { encoding: 'utf8' });
    const files = new Map<string, string>();
    for (const part of out.split(/^=== /m).slice(1)) {
      const nl = part.indexOf('\n');
      files.set(part.slice(0, nl), part.slice(nl + 1).replace(/\n$/, ''));
    }
    return files;
  }

  for (const [name, values] of Object.entries(VALUE_SETS)) {
    for (const release of ['modelhost', 'prod']) {
      it(`renders every template the same with ${name}, release ${release}`, () => {
        const want = reference(values, release);
        const got = renderChart(CHART, { releaseName: release, values }).files;
        expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
        for (const [file, text] of want) {
          expect(text.startsWith('ERROR:'), text).toBe(false);
          expect(got.get(file), file).toBe(text);
        }
      });
    }
  }

  for (const [name, values] of Object.entries(REFUSED_VALUE_SETS)) {
    it(`refuses ${name} in both`, () => {
      const errors = [...reference(values, 'modelhost').values()].filter((t) => t.startsWith('ERROR:'));
      expect(errors.length).toBeGreaterThan(0);
      expect(() => renderChart(CHART, { releaseName: 'modelhost', values })).toThrow();
    });
  }
});
