/**
 * A loaded version and the ref-counted handles requests hold on it.
 *
 * A request takes a handle before it touches the model and releases it when
 * done. When the manager retires a version it first stops handing out new
 * handles, then `drained()` resolves once every handle taken earlier has been
 * released, and only then is the model disposed. So a request in flight always
 * finishes on the version it started on.
 */
import type { Servable } from '../runtime/engine.js';
import { internal } from '../runtime/errors.js';

export interface ServableHandle {
  readonly name: string;
  readonly version: number;
  readonly model: Servable;
  /** Returns the handle; using `model` afterwards is a bug. Idempotent. */
  release(): void;
}

export class LoadedVersion {
  private refs = 0;
  private retired = false;
  private onDrained: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly model: Servable,
    /** Called each time the last outstanding handle is released. */
    private readonly onIdle?: () => void,
  ) {}

  get inFlight(): number {
    return this.refs;
  }

  acquire(): ServableHandle {
    if (this.retired) throw internal(`version ${this.version} of model ${this.name} is being unloaded`);
    this.refs++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.refs--;
      if (this.refs !== 0) return;
      if (this.onDrained) this.onDrained();
      else this.onIdle?.();
    };
    return { name: this.name, version: this.version, model: this.model, release };
  }

  /** Stops new handles and resolves when every outstanding handle is released. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.refs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onDrained = resolve;
    });
  }
}
