#!/usr/bin/env node
// The `nestream` command. A file that exists before the build, so npm links it into node_modules/.bin at
// install time (npm skips bins whose file is missing, as dist/ is in a fresh clone).
try {
  await import('../dist/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    process.stderr.write('error: @nestream/cli is not built: run `npm run build` first\n');
    process.exit(1);
  }
  throw err;
}
