import 'reflect-metadata';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { StreamsTestBed, type RedisTestBed } from '@nestream/testing';
import { useRedis } from '../harness/fixture.js';
import { waitFor } from '../harness/wait.js';
import { registerSharedCases } from './shared/cases.js';
import type { SharedClient, TransportUnderTest } from './shared/transport-under-test.js';

// The shared transport-level cases (shared/cases.ts) through the test kit's Redis bed (StreamsTestBed.redis()):
// the real transport under the bed's key prefix, inspected through the bed's API.
const fx = useRedis();
let bed: RedisTestBed;
const apps: INestMicroservice[] = [];

beforeEach(() => {
  bed = StreamsTestBed.redis({ connection: fx.redis.url });
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map(a => a.close()));
  await bed.close();
});

const redisBedTransport: TransportUnderTest = {
  name: 'redis',
  async start(controllers, options) {
    @Module({ controllers })
    class SharedCaseModule {}
    const app = await NestFactory.createMicroservice(SharedCaseModule, { strategy: bed.server(options), logger: false });
    apps.push(app);
    await app.listen();
  },
  client: () => bed.client() as unknown as SharedClient,
  addEntry: (pattern, fields) => bed.addEntry(pattern, fields),
  async passTime() {},
  now: () => Date.now(),
  until: (done, what) => waitFor(done, what),
  async deadLetters(pattern) {
    return (await bed.deadLetters(pattern)).map(d => d.fields);
  },
  pending: (pattern, group) => bed.pending(pattern, group),
};

describe('shared conformance cases on the Redis test bed', () => {
  registerSharedCases('redis', () => redisBedTransport);
});
