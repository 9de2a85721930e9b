#!/usr/bin/env bash
# Swaps the installed NestJS 12 for NestJS 11 (CommonJS) without touching package.json or the lockfile,
# so the same test suite runs on both majors. `npm ci` brings 12 back. --legacy-peer-deps: since @nestjs/testing and
# @nestjs/platform-fastify joined the dev dependencies, npm's resolver refuses this swap (ERESOLVE on the peers of
# the NestJS 12 packages the lockfile holds); the swap is for running the tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-save --no-audit --no-fund --loglevel=error --legacy-peer-deps \
  @nestjs/common@11.2.10 @nestjs/core@11.2.10 @nestjs/microservices@11.2.6 @nestjs/platform-express@11 \
  @nestjs/platform-fastify@11 @nestjs/testing@11 \
  >/dev/null
node -e "for (const p of ['common','core','microservices']) console.log('@nestjs/' + p, require('@nestjs/' + p + '/package.json').version)"
