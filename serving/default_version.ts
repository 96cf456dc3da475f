/**
 * Which version answers a request that names no version (`/v1/models/m:predict`).
 * TF Serving's answer is the highest available version. This is the one place
 * that decides it, so the registry (pins, rollback) can replace it.
 */
export type DefaultVersionChooser = (model: string, available: readonly number[]) => number | undefined;

export const highestAvailableVersion: DefaultVersionChooser = (_model, available) =>
  available.length === 0 ? undefined : Math.max(...available);
