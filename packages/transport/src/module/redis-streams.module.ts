import { Module, type DynamicModule, type FactoryProvider, type ModuleMetadata, type Provider } from '@nestjs/common';
import { RedisStreamsClient } from '../client/redis-streams.client.js';
import type { RedisStreamsClientOptions } from '../options/client.js';

/** Injection token of a client registered without a name. */
export const REDIS_STREAMS_CLIENT = 'REDIS_STREAMS_CLIENT';

export type RedisStreamsClientRegistration = RedisStreamsClientOptions & {
  /** Injection token: `@Inject(name) client: ClientProxy`. @default REDIS_STREAMS_CLIENT */
  name?: string | symbol;
};

export interface RedisStreamsClientAsyncRegistration extends Pick<ModuleMetadata, 'imports'> {
  name?: string | symbol;
  inject?: FactoryProvider['inject'];
  useFactory: (...args: any[]) => RedisStreamsClientOptions | Promise<RedisStreamsClientOptions>;
}

export interface RedisStreamsModuleOptions {
  /** Register the clients globally. @default false */
  isGlobal?: boolean;
}

/**
 * Registers named RedisStreamsClients, closed on application shutdown:
 * `RedisStreamsModule.forRoot({ name: 'EVENTS', connection: 'redis://...' })`, or with config:
 * `RedisStreamsModule.forRootAsync({ name: 'EVENTS', imports: [ConfigModule], inject: [ConfigService],
 * useFactory: (c: ConfigService) => ({ connection: c.get('REDIS_URL') }) })`.
 */
@Module({})
export class RedisStreamsModule {
  static forRoot(
    clients: RedisStreamsClientRegistration | RedisStreamsClientRegistration[],
    options: RedisStreamsModuleOptions = {},
  ): DynamicModule {
    const providers: Provider[] = toArray(clients).map(({ name = REDIS_STREAMS_CLIENT, ...clientOptions }) => ({
      provide: name,
      useFactory: () => closeOnShutdown(new RedisStreamsClient(clientOptions)),
    }));
    return dynamicModule(providers, [], options);
  }

  static forRootAsync(
    clients: RedisStreamsClientAsyncRegistration | RedisStreamsClientAsyncRegistration[],
    options: RedisStreamsModuleOptions = {},
  ): DynamicModule {
    const list = toArray(clients);
    const providers: Provider[] = list.map(({ name = REDIS_STREAMS_CLIENT, inject = [], useFactory }) => ({
      provide: name,
      inject,
      useFactory: async (...args: unknown[]) => closeOnShutdown(new RedisStreamsClient(await useFactory(...args))),
    }));
    return dynamicModule(providers, list.flatMap(c => c.imports ?? []), options);
  }
}

function dynamicModule(providers: Provider[], imports: ModuleMetadata['imports'], options: RedisStreamsModuleOptions): DynamicModule {
  return {
    module: RedisStreamsModule,
    global: options.isGlobal ?? false,
    imports,
    providers,
    exports: providers.map(p => (p as FactoryProvider).provide),
  };
}

/** As Nest's ClientsModule does: the client closes its connections with the application. */
function closeOnShutdown(client: RedisStreamsClient): RedisStreamsClient {
  (client as RedisStreamsClient & { onApplicationShutdown: () => Promise<void> }).onApplicationShutdown = () => client.close();
  return client;
}

function toArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
