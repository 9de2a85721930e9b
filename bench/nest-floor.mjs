#!/usr/bin/env node
// What NestJS itself costs per event, on both sides, with no transport and no Redis: the floor under any Nest
// transport's CPU per event. In one process, CPU µs per event (process.cpuUsage), medians of --rounds:
//   consumer: the handler Nest registers for an @EventPattern method with @Payload() and @Ctx() (guards, pipes,
//             interceptors, exception filter: none configured, as in the burst) called 100 at a time like the
//             dispatcher does, against calling the controller method itself;
//   producer: ClientProxy.emit() per event through lastValueFrom(), with a dispatchEvent that does nothing,
//             against calling that dispatchEvent itself.
// Usage: node bench/nest-floor.mjs [--n 200000] [--rounds 7]
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy, Ctx, EventPattern, Payload, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('n', 200_000);
const ROUNDS = arg('rounds', 7);
const IN_FLIGHT = 100;

let handled = 0;
class FloorController {
  handle(data, ctx) {
    if (data.i >= 0 && ctx) handled++;
  }
}
Payload()(FloorController.prototype, 'handle', 0);
Ctx()(FloorController.prototype, 'handle', 1);
EventPattern('floor')(FloorController.prototype, 'handle', Object.getOwnPropertyDescriptor(FloorController.prototype, 'handle'));
Controller()(FloorController);
class FloorModule {}
Module({ controllers: [FloorController] })(FloorModule);

/** Registers Nest's handlers and does nothing else: no connection, no reads. */
class FloorServer extends Server {
  listen(callback) {
    callback();
  }
  close() {}
  on() {}
  unwrap() {
    return undefined;
  }
}

/** A client whose events go nowhere: what remains is ClientProxy.emit()'s own path. */
class FloorClient extends ClientProxy {
  async connect() {}
  async close() {}
  async dispatchEvent() {}
  publish() {
    return () => undefined;
  }
  unwrap() {
    return undefined;
  }
  on() {}
}

const events = Array.from({ length: N }, (_, i) => ({ i, name: `user-${i}` }));
const ctx = { getDeliveryCount: () => 1 };

/** CPU µs per event of `run` over N events, in chunks of IN_FLIGHT calls awaited together. */
async function measure(call) {
  const chunk = new Array(IN_FLIGHT);
  const start = process.cpuUsage();
  for (let i = 0; i < N; i += IN_FLIGHT) {
    for (let k = 0; k < IN_FLIGHT; k++) chunk[k] = call(events[i + k]);
    await Promise.all(chunk);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / N;
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = new FloorServer();
const app = await NestFactory.createMicroservice(FloorModule, { strategy: server, logger: ['error', 'warn'] });
await app.listen();
const nestHandler = server.getHandlerByPattern('floor');
const controller = app.get(FloorController);
const client = new FloorClient();

const systems = {
  'consumer: controller method called directly': data => Promise.resolve(controller.handle(data, ctx)),
  "consumer: Nest's registered handler": data => nestHandler(data, ctx),
  'producer: dispatchEvent called directly': data => client.dispatchEvent({ pattern: 'floor', data }),
  'producer: ClientProxy.emit() + lastValueFrom': data => lastValueFrom(client.emit('floor', data), { defaultValue: undefined }),
};
const results = Object.fromEntries(Object.keys(systems).map(k => [k, []]));
for (let r = 0; r < ROUNDS; r++) for (const [name, call] of Object.entries(systems)) results[name].push(await measure(call));
if (handled !== 2 * ROUNDS * N) throw new Error(`handled ${handled}, expected ${2 * ROUNDS * N}`);

console.log(`Node ${process.version}; ${N.toLocaleString('en')} events per round, ${IN_FLIGHT} in flight, median of ${ROUNDS} rounds (min-max)\n`);
console.log('| path | CPU µs/event |');
console.log('| --- | --: |');
for (const [name, xs] of Object.entries(results)) {
  console.log(`| ${name} | ${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}) |`);
}
await app.close();
