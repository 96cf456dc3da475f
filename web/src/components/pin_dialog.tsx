// "Pin version N?" with the signature diff from the version serving now, so
// an operator sees what changes for clients before the switch.
import type { Model } from '../api/types.js';
import { api } from '../api/client.js';
import { ConfirmDialog } from './dialog.js';
import { SignatureDiffPanel } from './signature_diff_view.js';

interface Props {
  model: Model;
  /** The version to pin; undefined: closed. */
  version: number | undefined;
  onClose: () => void;
  onPinned: (m: Model) => void;
}

export function PinDialog({ model, version, onClose, onPinned }: Props) {
  const serving = model.active_version ?? undefined;
  return (
    <ConfirmDialog
      open={version !== undefined}
      title={`Pin version ${version ?? ''}?`}
      description={
        version !== undefined && (
          <p>
            Version {version} will answer every request that names no version, until unpinned.
            {serving !== undefined && serving !== version && ` Signature changes from version ${serving}, which serves now:`}
          </p>
        )
      }
      confirmLabel="Pin"
      onClose={onClose}
      onConfirm={async () => {
        if (version === undefined) return;
        onPinned(await api.pin(model.name, version));
      }}
    >
      {version !== undefined && serving !== undefined && serving !== version && <SignatureDiffPanel model={model.name} from={serving} to={version} />}
    </ConfirmDialog>
  );
}
