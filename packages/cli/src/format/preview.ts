const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One line of at most `max` characters: control characters escaped, the rest cut with an ellipsis. */
export function oneLine(text: string, max: number): string {
  // Newlines, escape sequences and the like would break the line or the terminal.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, c => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** A payload as compact JSON on one line, cut to `max` characters. */
export function previewData(data: unknown, max: number): string {
  return oneLine(JSON.stringify(data) ?? String(data), max);
}

/** A payload as indented JSON, at most `maxLines` lines (the rest summarised). */
export function prettyData(data: unknown, maxLines: number): string[] {
  const lines = (JSON.stringify(data, null, 2) ?? String(data)).split('\n');
  if (lines.length <= maxLines) return lines;
  return [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more lines (--full shows all)`];
}

/** ISO time to the second, from ms since the epoch or an ISO string: `2025-01-31T12:00:00Z`. */
export function isoSeconds(time: number | string): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
