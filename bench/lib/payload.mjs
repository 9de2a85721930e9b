// Events are { i, ts, p }: a sequence number (to count lost and duplicated events), the emit time
// (performance.timeOrigin + performance.now(), to measure latency across processes) and padding so that
// the JSON of one event is about `size` bytes.

/** Padding that makes JSON.stringify({ i, ts, p }) about `size` bytes for the largest i. */
export function makePad(size, n) {
  const base = JSON.stringify({ i: Math.max(0, n - 1), ts: performance.timeOrigin + 0.123456, p: '' }).length;
  return 'x'.repeat(Math.max(0, size - base));
}

export function eventBytes(size, n) {
  return JSON.stringify({ i: Math.max(0, n - 1), ts: performance.timeOrigin + 0.123456, p: makePad(size, n) }).length;
}
