/** Snapshot files that cannot be opened at all, and where to deal with them. */
import { formatCount } from '../../../lib/format.js';
import type { DamagedSnapshot } from './useSnapshots.js';

export function DamagedSnapshots({ damaged }: { damaged: DamagedSnapshot[] }) {
  if (damaged.length === 0) return null;
  const one = damaged.length === 1;
  return (
    <div className="notice" role="status" data-testid="damaged-snapshots">
      <p>
        {one ? 'One snapshot file cannot be opened' : `${formatCount(damaged.length)} snapshot files cannot be opened`}: nothing in {one ? 'it' : 'them'} can be
        read. The others are listed below. “Check &amp; repair” removes {one ? 'it' : 'them'}.
      </p>
      <ul>
        {damaged.map((d) => (
          <li key={d.id}>{d.message}</li>
        ))}
      </ul>
    </div>
  );
}
