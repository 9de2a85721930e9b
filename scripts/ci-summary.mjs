// Prints one closing line for CI from the JSON results of the Jest runs that .ci/run made:
// "N passed, N failed, N skipped" summed over every run, as the last line of the output, after one line per run
// worded so that it is not taken for the closing line. Jest's own summary ("Tests: 497 passed, 497 total") is not a
// line CI's reader understands.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/ci-summary.mjs <jest-results.json>...');
  process.exit(2);
}

const total = { passed: 0, failed: 0, skipped: 0 };
for (const file of files) {
  const run = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = run.numPendingTests + run.numTodoTests;
  console.log(`${basename(file, '.json')} run: passed ${run.numPassedTests}, failed ${run.numFailedTests}, skipped ${skipped}`);
  total.passed += run.numPassedTests;
  total.failed += run.numFailedTests;
  total.skipped += skipped;
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
