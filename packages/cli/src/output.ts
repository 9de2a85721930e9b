/**
 * What every `--json` output carries: `schemaVersion` changes only when a field is removed or changes
 * meaning (new fields may be added within a version); `kind` names the shape (docs/reference/cli.md: JSON output).
 */
export const SCHEMA_VERSION = 1;

export type JsonKind = 'status' | 'dead-letters' | 'dead-letter' | 'redrive' | 'purge' | 'prune' | 'entry' | 'group-move' | 'scheduled' | 'scheduled-cancel';

/** One JSON document on one line (NDJSON when there are several, as with --watch and tail). */
export function printJson(kind: JsonKind, body: object): void {
  process.stdout.write(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, kind, ...body })}\n`);
}

export function printLines(lines: string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

/** Notes for the operator (progress, warnings) go to stderr, so stdout stays what a script reads. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}
