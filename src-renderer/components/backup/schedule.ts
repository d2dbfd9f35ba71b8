/** Schedule presets for backup sets (cron expressions, as croner reads them in local time). */

export const SCHEDULE_PRESETS = [
  { id: 'manual', label: 'Manual only', cron: null },
  { id: 'hourly', label: 'Every hour', cron: '0 * * * *' },
  { id: 'six-hours', label: 'Every 6 hours', cron: '0 */6 * * *' },
  { id: 'daily', label: 'Daily at 02:00', cron: '0 2 * * *' },
  { id: 'weekdays', label: 'Weekdays at 18:00', cron: '0 18 * * 1-5' },
  { id: 'weekly', label: 'Weekly, Sunday at 03:00', cron: '0 3 * * 0' },
] as const;

export type PresetId = (typeof SCHEDULE_PRESETS)[number]['id'] | 'custom';

export function presetOf(schedule: string | null): PresetId {
  const p = SCHEDULE_PRESETS.find((x) => x.cron === schedule);
  return p ? p.id : 'custom';
}

export function scheduleLabel(schedule: string | null): string {
  const p = SCHEDULE_PRESETS.find((x) => x.cron === schedule);
  return p ? p.label : `Cron: ${schedule}`;
}
