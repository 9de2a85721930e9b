/** Output of the demo: colours on a terminal only (and not with NO_COLOR), one progress line rewritten in place. */
const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: string) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);

export const bold = paint('1');
export const dim = paint('2');
export const green = paint('32');
export const red = paint('31');
export const yellow = paint('33');

const started = Date.now();
let progressShown = false;

/** Seconds since the demo started. */
export function elapsed(): string {
  return `${((Date.now() - started) / 1000).toFixed(1)} s`;
}

export function out(line = ''): void {
  clearProgress();
  process.stdout.write(line + '\n');
}

export function step(text: string): void {
  out(bold(`\n▶ ${text}`) + dim(`  (${elapsed()})`));
}

/** Rewrites the progress line on a terminal; elsewhere prints it as a line of its own. */
export function progress(text: string): void {
  if (process.stdout.isTTY) {
    process.stdout.write(`\r\x1b[2K  ${text}`);
    progressShown = true;
  } else {
    process.stdout.write(`  ${text}\n`);
  }
}

export function clearProgress(): void {
  if (!progressShown) return;
  process.stdout.write('\r\x1b[2K');
  progressShown = false;
}
