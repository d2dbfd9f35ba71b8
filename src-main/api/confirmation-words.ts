/** Small words the confirmations share (confirmations*.ts). */
import type { MaintenanceCredentials } from '../../src-shared/repository-location.js';

/** "1 snapshot", "3 snapshots". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Maintenance credentials are named by their kind alone: never a user name, key or secret. */
export const withMaintenance = (m: MaintenanceCredentials | undefined) => (m ? ', with the maintenance credentials given for this run only' : '');
