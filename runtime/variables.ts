/**
 * Per-model state: variables (TF1 reference variables and TF2 resource
 * variables share one store) and the checkpoints opened for restore.
 *
 * A replaced variable value is not freed at once: an earlier step of the same
 * run may still hold it (ReadVariableOp returns the value itself, as a
 * snapshot). `releaseReplaced()` frees replaced values once a run is over.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DType } from './dtypes.js';
import { dtypeShortName } from './dtypes.js';
import { failedPrecondition, invalidArgument, notFound } from './errors.js';
import type { CheckpointReader, ResourceManager, Variable } from './kernels/registry.js';
import { shapeString, type Tensor } from './tensor.js';

class StoredVariable implements Variable {
  value: Tensor | undefined;
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly shape: readonly number[],
    private readonly replaced: Tensor[],
  ) {}

  assign(t: Tensor): void {
    if (t.dtype !== this.dtype) {
      throw invalidArgument(
        `Trying to assign variable with wrong dtype. Expected ${dtypeShortName(this.dtype)} got ${dtypeShortName(t.dtype)}`,
      );
    }
    if (this.value === t) return;
    if (this.value) this.replaced.push(this.value);
    // The variable owns its own handle on the storage: the assigned tensor may
    // be a plan constant or a caller's feed that is disposed independently.
    this.value = t.clone().keep();
  }

  read(): Tensor {
    if (!this.value) {
      throw failedPrecondition(
        `Could not find variable ${this.key}. This could mean that the variable has been deleted. In TF1, it can also mean the variable is uninitialized.`,
      );
    }
    return this.value;
  }
}

export class ModelResources implements ResourceManager {
  private readonly variables = new Map<string, StoredVariable>();
  private readonly checkpoints = new Map<string, CheckpointReader>();
  private readonly others = new Map<string, object>();
  private replaced: Tensor[] = [];

  /** `modelDir`: the SavedModel folder, the only place run-time file reads may reach. */
  constructor(private readonly modelDir: string) {}

  variable(key: string, dtype: DType, shape: readonly number[]): Variable {
    let v = this.variables.get(key);
    if (!v) {
      v = new StoredVariable(key, dtype, shape, this.replaced);
      this.variables.set(key, v);
    } else if (v.dtype !== dtype) {
      throw invalidArgument(
        `Variable ${key} was created with dtype ${dtypeShortName(v.dtype)} ${shapeString(v.shape)} and is now requested as ${dtypeShortName(dtype)}`,
      );
    }
    return v;
  }

  lookup(key: string): Variable | undefined {
    return this.variables.get(key);
  }

  all(): Variable[] {
    return [...this.variables.values()];
  }

  addCheckpoint(prefix: string, reader: CheckpointReader): void {
    this.checkpoints.set(prefix, reader);
  }

  checkpoint(prefix: string): CheckpointReader {
    const r = this.checkpoints.get(prefix);
    if (!r) throw notFound(`Failed to find any matching files for ${prefix}`);
    return r;
  }

  resource<T extends object>(key: string, create: () => T): T {
    let r = this.others.get(key);
    if (!r) this.others.set(key, (r = create()));
    return r as T;
  }

  readModelFile(file: string): Buffer {
    let real: string;
    let root: string;
    try {
      root = fs.realpathSync(this.modelDir);
      real = fs.realpathSync(path.resolve(this.modelDir, file));
    } catch {
      throw notFound(`${file}; No such file or directory`);
    }
    if (real !== root && !real.startsWith(root + path.sep)) {
      throw invalidArgument(`${file} is outside the SavedModel folder; a model may only read its own files (assets/).`);
    }
    return fs.readFileSync(real);
  }

  /** Drops every variable whose key is not in `keys` (freeing its value); returns how many went. */
  retainVariables(keys: ReadonlySet<string>): number {
    let dropped = 0;
    for (const [key, v] of this.variables) {
      if (keys.has(key)) continue;
      v.value?.dispose();
      this.variables.delete(key);
      dropped++;
    }
    return dropped;
  }

  /** Frees variable values replaced during the run that just finished. */
  releaseReplaced(): void {
    if (this.replaced.length === 0) return;
    const live = new Set<Tensor>();
    for (const v of this.variables.values()) if (v.value) live.add(v.value);
    for (const t of this.replaced) if (!live.has(t)) t.dispose();
    this.replaced.length = 0;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.value?.dispose();
    this.releaseReplaced();
    this.variables.clear();
    this.checkpoints.clear();
    this.others.clear();
  }
}
