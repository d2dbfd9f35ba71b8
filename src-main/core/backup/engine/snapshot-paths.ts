/**
 * A snapshot's source paths, stored in the platform-neutral form of src-shared/paths.ts, back
 * on this machine: where each top-level entry came from (for a restore to the original places),
 * and how the paths read to a person (in the notation of the machine that made the snapshot).
 */
import { displaySnapshotPath, fromSnapshotPath } from '../../../../src-shared/paths.js';
import { damage, stopped } from './messages.js';
import { HOST_PATH_STYLE } from './path-style.js';
import type { Snapshot } from './snapshot.js';

type Paths = Pick<Snapshot, 'paths' | 'pathStyle'>;

/** The last name of a stored path: the node it is in the snapshot's root tree. */
function storedName(stored: string): string {
  return (
    stored
      .split('/')
      .filter((p) => p.length > 0)
      .pop() ?? ''
  );
}

/** Where the top-level entry `name` came from, as a path of this machine. */
export function originalPlace(snapshot: Paths, name: string): string {
  const stored = snapshot.paths.find((p) => storedName(p) === name);
  if (stored === undefined) throw damage.snapshotOrigin();
  const style = snapshot.pathStyle ?? 'posix';
  const native = fromSnapshotPath(stored, style, HOST_PATH_STYLE);
  // A snapshot made on the other family has no original place here.
  if (native === null) throw stopped.otherPathFamily(style);
  return native;
}

/** The snapshot's source paths as the machine that made it wrote them. */
export function displayPaths(snapshot: Paths): string[] {
  return snapshot.paths.map((p) => displaySnapshotPath(p, snapshot.pathStyle ?? 'posix'));
}
