import 'reflect-metadata';
import { InvalidOptionsError, RedisStreamsClient, RedisStreamsServer } from '@nestream/transport';
import { readGroupsOf } from '../src/server/read-groups.js';

/** Routes of these streams, as buildRoutes() resolves them, with dead letters in `deadLetterKey(stream)` (none: `deadLetter: false`). */
const routesOf = (streams: string[], deadLetterKey?: (stream: string) => string) => streams.map(stream => ({ stream, deadLetterKey: deadLetterKey?.(stream) }));

// Issue 11: `connection: { type: 'cluster', nodes, options }` is checked like every other option, and a key
// layout a cluster cannot run (a stream and its dead-letter stream in different slots) fails listen() by name.

const nodes = [{ host: '127.0.0.1', port: 1 }];
const server = (connection: unknown, more: object = {}) => new RedisStreamsServer({ group: 'g', connection: connection as never, ...more });

describe('cluster connection options', () => {
  it.each([
    [{ type: 'cluster' }, '"connection.nodes": must be a non-empty array of { host, port } seed nodes'],
    [{ type: 'cluster', nodes: [] }, '"connection.nodes": must be a non-empty array'],
    [{ type: 'cluster', nodes: ['127.0.0.1:7000'] }, '"connection.nodes[0]": must be { host, port }'],
    [{ type: 'cluster', nodes: [{ host: '127.0.0.1', port: 70000 }] }, '"connection.nodes[0].port": must be a port number'],
    [{ type: 'clustr', nodes }, `"connection.type": must be 'cluster'`],
    [{ type: 'cluster', nodes, password: 'pw' }, '"connection.password": is not a cluster connection key (type, nodes, options); node connection options go under options.redisOptions'],
    [{ type: 'cluster', nodes, options: { redisOptions: { keyPrefix: 'a:' } } }, "use the transport's keyPrefix option"],
  ])('rejects %j', (connection, message) => {
    expect(() => server(connection)).toThrow(InvalidOptionsError);
    expect(() => server(connection)).toThrow(message);
    expect(() => new RedisStreamsClient({ connection: connection as never })).toThrow(message);
  });

  it('accepts seed nodes and ioredis ClusterOptions', () => {
    expect(() => server({ type: 'cluster', nodes, options: { redisOptions: { password: 'pw' }, maxRedirections: 8 } })).not.toThrow();
  });
});

describe('key layout on a cluster', () => {
  const cluster = { connection: { type: 'cluster' as const, nodes } };
  const dlqSuffix = (stream: string) => `${stream}:dlq`;

  it('fails listen() when a stream and its dead-letter stream hash to different slots, before connecting', async () => {
    const s = server(cluster.connection);
    for (const pattern of ['{orders}.created', 'orders.placed']) s.addHandler(pattern, async () => undefined, true);
    const err = await new Promise(resolve => void s.listen(e => resolve(e)));
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as Error).message).toContain('"orders.placed" (slot 10575) and "orders.placed:dlq" (slot 2949) do not');
    expect((err as Error).message).toContain("'{orders}.placed'");
  });

  it('gives one reader per slot to hash-tagged streams', () => {
    expect(readGroupsOf(routesOf(['{orders}.created', '{orders}.placed', '{users}.registered'], dlqSuffix), cluster)).toEqual([
      ['{orders}.created', '{orders}.placed'],
      ['{users}.registered'],
    ]);
  });

  it('accepts a dead-letter key with the stream\'s tag, and any layout without dead letters', () => {
    const tagged = (stream: string) => `dead:{${stream.slice(1, stream.indexOf('}'))}}`;
    expect(readGroupsOf(routesOf(['{orders}.created'], tagged), cluster)).toEqual([['{orders}.created']]);
    expect(readGroupsOf(routesOf(['orders.placed']), cluster)).toEqual([['orders.placed']]);
  });

  it('reads every stream with one reader on one Redis, whatever their slots', () => {
    expect(readGroupsOf(routesOf(['orders.placed', 'users.registered']), { connection: 'redis://127.0.0.1:1' })).toEqual([['orders.placed', 'users.registered']]);
  });
});
