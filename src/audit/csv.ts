import type { AuditEntry } from '../store/audit.js';

/**
 * The audit log as CSV (RFC 4180), for `mcp-orch audit --csv` and the REST API: every column, times
 * as ISO 8601, fields with a comma, quote or line break quoted with their quotes doubled.
 */

export const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'type',
  'project',
  'member',
  'keyPrefix',
  'server',
  'method',
  'name',
  'outcome',
  'durationMs',
  'transport',
  'era',
  'clientName',
  'clientVersion',
  'address',
  'session',
  'detail',
  'task',
] as const satisfies readonly (keyof AuditEntry)[];

export const AUDIT_CSV_HEADER = AUDIT_CSV_COLUMNS.join(',');

function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function auditCsvRow(entry: AuditEntry): string {
  return AUDIT_CSV_COLUMNS.map((column) => cell(column === 'at' ? new Date(entry.at).toISOString() : entry[column])).join(',');
}
