/** Chooses the repository a screen works on; the choice is remembered while the app runs. */
import { useEffect, useId } from 'react';
import type { RepositoryView } from '../../hooks/useRepositories.js';

let remembered: string | null = null;

export function useRememberedRepository(repositories: RepositoryView[] | null, value: string, onChange: (id: string) => void): void {
  useEffect(() => {
    if (!repositories || repositories.length === 0) return;
    if (value && repositories.some((r) => r.id === value)) return;
    const pick = repositories.find((r) => r.id === remembered) ?? repositories[0]!;
    onChange(pick.id);
  }, [repositories, value, onChange]);
}

export function RepositoryPicker({ repositories, value, onChange }: { repositories: RepositoryView[]; value: string; onChange: (id: string) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>Repository</label>
      <select
        id={id}
        value={value}
        onChange={(e) => {
          remembered = e.target.value;
          onChange(e.target.value);
        }}
      >
        {repositories.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name} ({r.path})
          </option>
        ))}
      </select>
    </div>
  );
}
