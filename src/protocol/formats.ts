// The row file formats (CSV, JSON, NDJSON): named by extension or content type, or told apart by
// their first characters.

export type DataFormat = 'csv' | 'json' | 'ndjson';

export const DATA_FORMATS: readonly DataFormat[] = ['csv', 'json', 'ndjson'];

export function isDataFormat(value: unknown): value is DataFormat {
  return typeof value === 'string' && (DATA_FORMATS as readonly string[]).includes(value);
}

/** The format a file name, path or URI names by its extension (query and fragment ignored). */
export function formatFromName(name: string | undefined): DataFormat | undefined {
  if (!name) return undefined;
  const path = name.replace(/[?#].*$/, '').toLowerCase();
  if (path.endsWith('.csv')) return 'csv';
  if (path.endsWith('.ndjson') || path.endsWith('.jsonl')) return 'ndjson';
  if (path.endsWith('.json')) return 'json';
  return undefined;
}

/** The format an HTTP content type names (parameters such as charset ignored). */
export function formatFromContentType(contentType: string | undefined): DataFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/jsonlines') return 'ndjson';
  if (type === 'application/json') return 'json';
  return undefined;
}

/**
 * The format by content: `[` is JSON; `{` is NDJSON when one object ends and another starts on
 * the next line, else one JSON object; anything else is CSV.
 */
export function sniffFormat(text: string): DataFormat {
  const start = text.trimStart();
  const first = start[0];
  if (first === '[') return 'json';
  if (first === '{') return /\}\s*\n\s*\{/.test(start) ? 'ndjson' : 'json';
  return 'csv';
}
