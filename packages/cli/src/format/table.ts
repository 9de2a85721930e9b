/** A column: its header, and whether values are right-aligned (numbers). */
export interface Column {
  header: string;
  right?: boolean;
}

/** Plain-text table, columns two spaces apart, no trailing spaces. Cells may be empty. */
export function renderTable(columns: Column[], rows: string[][]): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map(r => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    columns
      .map((c, i) => (c.right ? (cells[i] ?? '').padStart(widths[i]) : (cells[i] ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map(c => c.header)), ...rows.map(line)];
}
