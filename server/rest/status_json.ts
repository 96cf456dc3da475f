/**
 * `GET /v1/models/{m}[/versions/{v}]` bodies, printed as TF Serving prints a
 * GetModelStatusResponse (protobuf JSON, field names as in the proto, int64
 * as strings, every field present), and its NOT_FOUND texts
 * (get_model_status_impl.cc).
 */
import { notFound } from '../../runtime/errors.js';
import type { ServableState, ServableStateMonitor } from '../../serving/servable_state.js';

function versionStatus(s: ServableState) {
  return {
    version: String(s.version),
    state: s.state,
    status: { error_code: s.status.code, error_message: s.status.message },
  };
}

/**
 * A version-less request lists every version the monitor knows, highest
 * first. A version label does not narrow the list: TF Serving's status API
 * ignores labels.
 */
export function modelStatusJson(monitor: ServableStateMonitor, name: string, version: number | undefined): string {
  return JSON.stringify({ model_version_status: modelVersionStates(monitor, name, version).map(versionStatus) }, null, 1);
}

/** The version states a status request answers with (REST and gRPC), or TF Serving's NOT_FOUND. */
export function modelVersionStates(monitor: ServableStateMonitor, name: string, version: number | undefined): ServableState[] {
  let states: ServableState[];
  if (version !== undefined) {
    const s = monitor.getState(name, version);
    if (!s) throw notFound(`Could not find version ${version} of model ${name}`);
    states = [s];
  } else {
    states = monitor.getVersionStates(name);
    if (states.length === 0) throw notFound(`Could not find any versions of model ${name}`);
  }
  return states;
}
