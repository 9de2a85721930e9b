import type { DynamicModule } from '@nestjs/common';
import { REDIS_STREAMS_CLIENT } from '@nestream/transport';
import type { MemoryStreamsClientOptions } from './memory-streams.client.js';

/** One injected client: its token (as in `ClientsModule.register([{ name }])`) and its options. */
export interface TestBedClientRegistration {
  /** @default REDIS_STREAMS_CLIENT (what RedisStreamsModule registers without a name) */
  name?: string | symbol;
  options?: MemoryStreamsClientOptions;
}

/** The module `bed.clientsModule()` returns: the bed's clients under the tokens the app injects. */
export class StreamsTestBedClientsModule {
  static of(
    registrations: TestBedClientRegistration[],
    makeClient: (options?: MemoryStreamsClientOptions) => unknown,
    global: boolean,
  ): DynamicModule {
    const providers = registrations.map(r => ({ provide: r.name ?? REDIS_STREAMS_CLIENT, useValue: makeClient(r.options) }));
    return { module: StreamsTestBedClientsModule, providers, exports: providers.map(p => p.provide), global };
  }
}
