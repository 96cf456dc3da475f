/**
 * Servable states and the monitor that records them, as TF Serving's
 * ServableState / ServableStateMonitor: every version the manager touches
 * goes START → LOADING → AVAILABLE → UNLOADING → END, or ends in END with the
 * load error. Entries are never removed (an unloaded version stays END/OK),
 * so `GET /v1/models/m` shows a model's history like TF Serving does.
 */
import type { StatusCode } from '../runtime/errors.js';

export type ManagerState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

export interface ServableStatus {
  code: StatusCode;
  message: string;
}

export interface ServableState {
  name: string;
  version: number;
  state: ManagerState;
  /** OK, or the error that ended the version (a failed load). */
  status: ServableStatus;
  /** Milliseconds since the epoch when the state was entered. */
  time: number;
}

export const OK_STATUS: ServableStatus = Object.freeze({ code: 'OK', message: '' });

export type StateListener = (state: ServableState) => void;

export class ServableStateMonitor {
  private readonly states = new Map<string, Map<number, ServableState>>();
  private readonly listeners = new Set<StateListener>();

  publish(name: string, version: number, state: ManagerState, status: ServableStatus = OK_STATUS): void {
    const entry: ServableState = { name, version, state, status, time: Date.now() };
    let versions = this.states.get(name);
    if (!versions) this.states.set(name, (versions = new Map()));
    versions.set(version, entry);
    for (const fn of this.listeners) fn(entry);
  }

  getState(name: string, version: number): ServableState | undefined {
    return this.states.get(name)?.get(version);
  }

  /** Every recorded version of a model, highest version first (TF Serving's order). */
  getVersionStates(name: string): ServableState[] {
    const versions = this.states.get(name);
    return versions ? [...versions.values()].sort((a, b) => b.version - a.version) : [];
  }

  /** Every recorded version of every model. */
  all(): ServableState[] {
    const out: ServableState[] = [];
    for (const versions of this.states.values()) out.push(...versions.values());
    return out;
  }

  /** Calls `fn` on every state change; returns the unsubscribe function. */
  subscribe(fn: StateListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
