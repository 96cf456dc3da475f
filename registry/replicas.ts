/**
 * This process as one replica of the registry: a heartbeat row in the store
 * (id, address, start time, last seen by the store's clock, and every
 * version the manager holds with its state, and which one answers requests
 * naming no version: `serving`), written every
 * `heartbeatMs` and soon after a version changes state, and marked stopped
 * on a clean shutdown. A replica whose heartbeat is older than `lapseMs` is
 * reported `gone` (it died or lost the database); its rows stay as history.
 *
 *   const beat = new ReplicaHeartbeat({ store, monitor, id: 'pod-a', address: '10.0.0.7:8501' });
 *   await beat.start();   ...   await beat.stop();
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { consoleLogger, type Logger } from '../serving/log.js';
import type { ServableStateMonitor } from '../serving/servable_state.js';
import type { RegistryStore, ReplicaRow, ReplicaVersion } from './store.js';

export const DEFAULT_HEARTBEAT_MS = 5_000;
export const DEFAULT_REPLICA_LAPSE_MS = 15_000;
/** Replicas listed by /api/v1/replicas: those seen within this window (older rows are history only). */
export const REPLICAS_LISTED_WITHIN_MS = 24 * 60 * 60 * 1000;
/** A state change is reported at most this soon after it happens (several changes make one write). */
const CHANGE_DEBOUNCE_MS = 100;
/** How often what would be reported is compared with what was (a pin switches `serving` without a state change). */
const CHANGE_CHECK_MS = 250;

export type ReplicaStatus = 'live' | 'gone' | 'stopped';

export interface ReplicaInfo extends ReplicaRow {
  status: ReplicaStatus;
}

/** A default replica id: the host name (the pod name on Kubernetes) and a random suffix, unique per process. */
export function defaultReplicaId(): string {
  return `${os.hostname()}-${randomBytes(3).toString('hex')}`;
}

export function replicaStatus(r: ReplicaRow, lapseMs: number): ReplicaStatus {
  if (r.stoppedAt !== null) return 'stopped';
  return r.silentMs > lapseMs ? 'gone' : 'live';
}

/** The replicas seen recently, with their status; live ones first, then most recently started. */
export async function listReplicas(store: RegistryStore, lapseMs = DEFAULT_REPLICA_LAPSE_MS): Promise<ReplicaInfo[]> {
  const rows = await store.listReplicas({ withinMs: REPLICAS_LISTED_WITHIN_MS });
  const order: Record<ReplicaStatus, number> = { live: 0, gone: 1, stopped: 2 };
  return rows.map((r) => ({ ...r, status: replicaStatus(r, lapseMs) })).sort((a, b) => order[a.status] - order[b.status]);
}

export interface ReplicaHeartbeatOptions {
  store: RegistryStore;
  monitor: ServableStateMonitor;
  id: string;
  address: string;
  heartbeatMs?: number;
  /** The version answering requests that name none, per model (the registry's choice); reported as `serving`. */
  servingVersion?: (model: string) => number | undefined;
  log?: Logger;
}

export class ReplicaHeartbeat {
  readonly id: string;
  readonly address: string;
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  private check: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  /** The versions last recorded, as JSON. */
  private reported = '';
  private beating: Promise<void> | undefined;
  private failing = false;
  private stopped = false;
  private readonly unsubscribe: () => void;
  private readonly log: Logger;

  constructor(private readonly options: ReplicaHeartbeatOptions) {
    this.id = options.id;
    this.address = options.address;
    this.log = options.log ?? consoleLogger;
    this.unsubscribe = options.monitor.subscribe(() => {
      if (this.stopped || this.soon || !this.timer) return;
      this.soon = setTimeout(() => {
        this.soon = undefined;
        void this.beat();
      }, CHANGE_DEBOUNCE_MS);
      this.soon.unref();
    });
  }

  /** Keeps beating; resolves once the first heartbeat is recorded (throws when it is not: later beats retry). */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.timer.unref();
    this.check = setInterval(() => {
      if (JSON.stringify(this.versions()) !== this.reported) void this.beat();
    }, CHANGE_CHECK_MS);
    this.check.unref();
    await this.write();
  }

  /** Stops beating and records a clean stop. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    clearInterval(this.timer);
    clearInterval(this.check);
    clearTimeout(this.soon);
    await this.beating;
    await this.options.store
      .transaction((tx) => tx.markReplicaStopped(this.id))
      .catch((e) => this.log.warn(`Could not record that replica ${this.id} stopped: ${(e as Error).message}`));
  }

  private versions(): ReplicaVersion[] {
    const serving = new Map<string, number | undefined>();
    const servingVersion = (model: string) => {
      if (!serving.has(model)) serving.set(model, this.options.servingVersion?.(model));
      return serving.get(model);
    };
    return this.options.monitor
      .all()
      .filter((s) => s.state !== 'END')
      .map((s) => ({ model: s.name, version: s.version, state: s.state, serving: s.state === 'AVAILABLE' && servingVersion(s.name) === s.version }))
      .sort((a, b) => (a.model === b.model ? b.version - a.version : a.model < b.model ? -1 : 1));
  }

  private async write(): Promise<void> {
    const beat = { id: this.id, address: this.address, startedAt: this.startedAt, versions: this.versions() };
    await this.options.store.transaction((tx) => tx.recordHeartbeat(beat));
    this.reported = JSON.stringify(beat.versions);
  }

  /** One heartbeat; failures are logged once per streak (the replica keeps serving what it has). */
  private async beat(): Promise<void> {
    if (this.stopped || this.beating) return;
    this.beating = this.write().then(
      () => {
        if (this.failing) this.log.info(`Replica ${this.id}: heartbeats are recorded again.`);
        this.failing = false;
      },
      (e) => {
        if (!this.failing) this.log.warn(`Replica ${this.id}: could not record a heartbeat (serving what is loaded; retrying): ${(e as Error).message}`);
        this.failing = true;
      },
    );
    try {
      await this.beating;
    } finally {
      this.beating = undefined;
    }
  }
}
