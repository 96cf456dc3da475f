// Dependencies point one way: server/ → registry/ → serving/ → runtime/
// (docs/ARCHITECTURE.md). Every relative import, export-from and import()
// in the source folders is read and resolved to the top-level folder it
// names; an import against the arrow fails here, naming the file and line.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** For each source folder, the top-level folders of this repository it must never import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  runtime: ['serving', 'registry', 'server', 'web'],
  serving: ['registry', 'server', 'web'],
  registry: ['server', 'web'],
  server: ['web'],
  // The console talks to the server over its public HTTP API only.
  web: ['runtime', 'serving', 'registry', 'server'],
};

interface Import {
  file: string; // relative to ROOT
  line: number;
  specifier: string;
  /** The top-level folder the specifier resolves to, or undefined when it leaves the repository or is a package. */
  folder: string | undefined;
}

// `import x from '…'`, `import '…'`, `export { x } from '…'`, `import('…')` (also in types).
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;

/** The imports of one source text, as if it lived at `file` (relative to ROOT). */
function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const lines = text.split('\n');
  lines.forEach((lineText, i) => {
    for (const m of lineText.matchAll(IMPORT)) {
      const specifier = m[2];
      let folder: string | undefined;
      if (specifier.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
        folder = target.startsWith('..') ? undefined : target.split('/')[0];
      }
      found.push({ file, line: i + 1, specifier, folder });
    }
  });
  return found;
}

/** The imports that break FORBIDDEN, as "file:line imports specifier (folder/)" lines. */
function violations(imports: readonly Import[]): string[] {
  return imports
    .filter((imp) => imp.folder !== undefined && (FORBIDDEN[imp.file.split('/')[0]] ?? []).includes(imp.folder))
    .map((imp) => `${imp.file}:${imp.line} imports ${imp.specifier} (${imp.folder}/)`);
}

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(child);
      } else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        out.push(child);
      }
    }
  };
  walk(folder);
  return out;
}

const allImports = (): Import[] =>
  Object.keys(FORBIDDEN).flatMap((folder) =>
    sourceFiles(folder).flatMap((file) => importsOf(file, fs.readFileSync(path.join(ROOT, file), 'utf8'))),
  );

describe('dependency direction', () => {
  it('no source file imports against server → registry → serving → runtime', () => {
    expect(violations(allImports())).toEqual([]);
  });

  it('reads the imports that are allowed (the scan is not empty)', () => {
    const imports = allImports();
    const edges = new Set(imports.filter((i) => i.folder).map((i) => `${i.file.split('/')[0]}→${i.folder}`));
    for (const edge of ['server→registry', 'server→serving', 'registry→serving', 'registry→runtime', 'serving→runtime']) {
      expect(edges, edge).toContain(edge);
    }
  });

  it('catches an import against the arrow, in every form', () => {
    const bad = [
      ['serving/watcher.ts', "import { Registry } from '../registry/registry.js';"],
      ['serving/object_store/cache.ts', "import type { RegistryStore } from '../../registry/store.js';"],
      ['serving/serving_core.ts', "export { startServer } from '../server/serve.js';"],
      ['runtime/engine.ts', "const core = await import('../serving/serving_core.js');"],
      ['runtime/kernels/x.ts', "let t: import('../../registry/store.js').StoreTx;"],
      ['registry/registry.ts', "import '../server/metrics.js';"],
      ['web/src/api/client.ts', "import type { Json } from '../../../server/rest/json.js';"],
    ];
    for (const [file, text] of bad) {
      expect(violations(importsOf(file, text)), `${file}: ${text}`).toHaveLength(1);
    }
    const fine = [
      ['registry/registry.ts', "import type { ServingCore } from '../serving/serving_core.js';"],
      ['serving/watcher.ts', "import { StatusError } from '../runtime/errors.js';"],
      ['serving/object_store/cache.ts', "import { durableRename } from '../durable.js';"],
      ['serving/watcher.ts', "import fs from 'node:fs/promises';"],
    ];
    for (const [file, text] of fine) {
      expect(violations(importsOf(file, text)), `${file}: ${text}`).toEqual([]);
    }
  });
});
