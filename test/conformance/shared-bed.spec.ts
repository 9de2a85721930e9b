import 'reflect-metadata';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { StreamsTestBed } from '@nestream/testing';
import { registerSharedCases } from './shared/cases.js';
import type { SharedClient, TransportUnderTest } from './shared/transport-under-test.js';

// The shared transport-level cases (shared/cases.ts) on the test kit's in-memory bed: no Redis, virtual time.
let bed: StreamsTestBed;
const apps: INestMicroservice[] = [];

beforeEach(() => {
  bed = new StreamsTestBed();
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map(a => a.close()));
  await bed.close();
});

const bedTransport: TransportUnderTest = {
  name: 'bed',
  async start(controllers, options) {
    @Module({ controllers })
    class SharedCaseModule {}
    const app = await NestFactory.createMicroservice(SharedCaseModule, { strategy: bed.server(options), logger: false });
    apps.push(app);
    await app.listen();
  },
  client: () => bed.client() as unknown as SharedClient,
  async addEntry(pattern, fields) {
    return bed.addEntry(pattern, fields);
  },
  passTime: ms => bed.advance(ms),
  now: () => bed.now(),
  async until(done, what) {
    // What runs without real I/O first (a hung handler must not hold this up), then everything, retries included.
    await bed.advance(0);
    if (await done()) return;
    await bed.drain();
    if (!(await done())) throw new Error(`Not so once the bed drained: ${what}`);
  },
  async deadLetters(pattern) {
    return bed.deadLetters(pattern).map(d => d.fields);
  },
  async pending(pattern, group) {
    return bed.pending(pattern, group);
  },
};

describe('shared conformance cases on the in-memory test bed', () => {
  registerSharedCases('bed', () => bedTransport);
});
