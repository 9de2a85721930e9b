#!/usr/bin/env bash
# Swaps the installed NestJS 12 for NestJS 11 (CommonJS) without touching package.json or the lockfile,
# so the same test suite runs on both majors. `npm ci` brings 12 back.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-save --no-audit --no-fund --loglevel=error \
  @nestjs/common@11.2.10 @nestjs/core@11.2.10 @nestjs/microservices@11.2.6 @nestjs/platform-express@11 \
  >/dev/null
node -e "for (const p of ['common','core','microservices']) console.log('@nestjs/' + p, require('@nestjs/' + p + '/package.json').version)"
