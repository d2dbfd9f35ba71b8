/** User settings, validated by the contract's schema on the way in and out. */
import { SettingsSchema, type Settings } from '../../../src-shared/contract.js';
import type { Store } from '../platform/store.js';

export const DEFAULT_SETTINGS: Settings = { autoLockMinutes: 10 };

export class SettingsService {
  constructor(private readonly store: Store) {}

  get(): Settings {
    const rows = this.store.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const stored = Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
    // Unknown or damaged values fall back to defaults rather than locking the user out of settings.
    const parsed = SettingsSchema.partial().safeParse(stored);
    return { ...DEFAULT_SETTINGS, ...(parsed.success ? parsed.data : {}) };
  }

  update(patch: Partial<Settings>): Settings {
    const next = SettingsSchema.parse({ ...this.get(), ...patch });
    this.store.tx(() => {
      const put = this.store.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
      for (const [key, value] of Object.entries(next)) put.run(key, JSON.stringify(value));
    });
    return next;
  }
}
