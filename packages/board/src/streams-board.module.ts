import { Inject, Logger, Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type ModuleMetadata, type NestModule, type OnApplicationShutdown } from '@nestjs/common';
import type { StreamsBoardOptions } from './board-options.js';
import { StreamsBoard } from './streams-board.js';

export const STREAMS_BOARD_OPTIONS = Symbol('STREAMS_BOARD_OPTIONS');

export interface StreamsBoardAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => StreamsBoardOptions | Promise<StreamsBoardOptions>;
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
}

/**
 * Mounts the board in a Nest HTTP app (Express or Fastify) under `basePath`:
 *
 * ```ts
 * @Module({ imports: [StreamsBoardModule.forRoot({ connection: process.env.REDIS_URL, basePath: '/ops/streams' })] })
 * export class AppModule {}
 * ```
 */
@Module({})
export class StreamsBoardModule implements NestModule, OnApplicationShutdown {
  private readonly logger = new Logger('StreamsBoard');

  constructor(@Inject(StreamsBoard) private readonly board: StreamsBoard) {}

  static forRoot(options: StreamsBoardOptions): DynamicModule {
    return StreamsBoardModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: StreamsBoardAsyncOptions): DynamicModule {
    return {
      module: StreamsBoardModule,
      imports: options.imports ?? [],
      providers: [
        { provide: STREAMS_BOARD_OPTIONS, useFactory: options.useFactory, inject: (options.inject ?? []) as never[] },
        {
          provide: StreamsBoard,
          useFactory: (resolved: StreamsBoardOptions) => new StreamsBoard(resolved, err => new Logger('StreamsBoard').error(err)),
          inject: [STREAMS_BOARD_OPTIONS],
        },
      ],
      exports: [StreamsBoard],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    const { basePath, allowWrites, authorize } = this.board.options;
    if (allowWrites && !authorize) this.logger.warn(`writes are enabled without an authorize hook: anyone who reaches ${basePath || '/'} can redrive, purge and cancel delayed emits`);
    const handler = this.board.handler;
    consumer
      .apply((req: Parameters<typeof handler>[0], res: Parameters<typeof handler>[1], next: () => void) => handler(req, res, next))
      .forRoutes({ path: basePath || '/', method: RequestMethod.ALL }, { path: `${basePath}/*path`, method: RequestMethod.ALL });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.board.close();
  }
}
