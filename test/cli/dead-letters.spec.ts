import { useRedis } from '../harness/fixture.js';
import { runCli } from './cli.js';
import { writeKnownState } from './known-state.js';

const fx = useRedis();
const url = () => fx.redis.url;

beforeEach(async () => {
  await writeKnownState(fx.redis.client());
});

describe('nestream dlq list', () => {
  it('lists dead letters oldest first: id, time, reason, attempts, error and a payload preview', async () => {
    const result = await runCli(['dlq', 'list', 'orders.created', '--url', url()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'orders.created:dlq: 3 dead letters',
        'ID               FAILED AT             REASON        ATTEMPTS  ERROR                                  PAYLOAD',
        '1700000100000-0  2023-11-14T22:15:00Z  max-attempts         3  Error: warehouse south offline         {"id":7,"sku":"gizmo","customer":"ivy"}',
        '1700000200000-0  2023-11-14T22:16:40Z  decode               1  DecodeError: "data" is not valid JSON  (undecodable) data=not json cid=c-8',
        '1700000300000-0  2023-11-14T22:18:20Z  max-attempts         3  Error: warehouse south offline         {"id":9,"sku":"gizmo","customer":"jon"}',
        '',
      ].join('\n'),
    );
  });

  it('filters by --reason and stops at --limit', async () => {
    const decode = await runCli(['dlq', 'list', 'orders.created', '--reason', 'decode', '--url', url()]);
    expect(decode.stdout.split('\n').slice(2, -1)).toEqual([
      '1700000200000-0  2023-11-14T22:16:40Z  decode         1  DecodeError: "data" is not valid JSON  (undecodable) data=not json cid=c-8',
    ]);
    const limited = await runCli(['dlq', 'list', 'orders.created', '--limit', '1', '--url', url()]);
    expect(limited.stdout.split('\n').slice(2)).toEqual([
      '1700000100000-0  2023-11-14T22:15:00Z  max-attempts         3  Error: warehouse south offline  {"id":7,"sku":"gizmo","customer":"ivy"}',
      '… more: raise --limit (now 1)',
      '',
    ]);
    const none = await runCli(['dlq', 'list', 'orders.created', '--reason', 'validation', '--url', url()]);
    expect(none.stdout).toBe('No dead letters with reason validation in orders.created:dlq (3 in all).\n');
  });

  it('says so when a stream has no dead letters', async () => {
    const result = await runCli(['dlq', 'list', 'inventory.reserved', '--url', url()]);
    expect([result.code, result.stdout]).toEqual([0, 'No dead letters in inventory.reserved:dlq.\n']);
  });

  it('prints the dead letters as JSON with --json', async () => {
    const result = await runCli(['dlq', 'list', 'orders.created', '--limit', '2', '--url', url(), '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      schemaVersion: 1,
      kind: 'dead-letters',
      stream: 'orders.created',
      deadLetterKey: 'orders.created:dlq',
      total: 3,
      more: true,
      entries: [
        {
          id: '1700000100000-0',
          stream: 'orders.created',
          sourceId: '1699999990000-0',
          group: 'billing',
          consumer: 'worker-1',
          attempts: 3,
          reason: 'max-attempts',
          error: { name: 'Error', message: 'warehouse south offline' },
          failedAt: '2023-11-14T22:15:00.000Z',
          redrive: null,
          data: { id: 7, sku: 'gizmo', customer: 'ivy' },
          correlationId: 'c-7',
          headers: { tenant: 'acme' },
          decodeError: null,
          fields: { data: '{"id":7,"sku":"gizmo","customer":"ivy"}', cid: 'c-7', h: '{"tenant":"acme"}' },
        },
        {
          id: '1700000200000-0',
          stream: 'orders.created',
          sourceId: '1699999990001-0',
          group: 'billing',
          consumer: 'worker-1',
          attempts: 1,
          reason: 'decode',
          error: { name: 'DecodeError', message: '"data" is not valid JSON' },
          failedAt: '2023-11-14T22:16:40.000Z',
          redrive: null,
          data: null,
          correlationId: null,
          headers: null,
          decodeError: expect.stringMatching(/^"data" is not valid JSON: /),
          fields: { data: 'not json', cid: 'c-8' },
        },
      ],
    });
  });
});

describe('nestream dlq show', () => {
  it('shows one dead letter with its metadata, headers and the payload', async () => {
    const result = await runCli(['dlq', 'show', 'orders.created', '1700000100000-0', '--url', url()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'Dead letter 1700000100000-0 in orders.created:dlq',
        '  source       orders.created 1699999990000-0',
        '  reason       max-attempts',
        '  attempts     3',
        '  group        billing',
        '  consumer     worker-1',
        '  failed at    2023-11-14T22:15:00Z',
        '  error        Error: warehouse south offline',
        '  correlation  c-7',
        '  headers      {"tenant":"acme"}',
        '  payload      {',
        '                 "id": 7,',
        '                 "sku": "gizmo",',
        '                 "customer": "ivy"',
        '               }',
        '',
      ].join('\n'),
    );
  });

  it('shows why an undecodable dead letter does not decode, and its raw fields', async () => {
    const result = await runCli(['dlq', 'show', 'orders.created', '1700000200000-0', '--url', url()]);
    expect(result.stdout.split('\n').slice(7)).toEqual([
      '  error        DecodeError: "data" is not valid JSON',
      expect.stringMatching(/^ {2}undecodable {2}"data" is not valid JSON: /),
      '  fields',
      '    data = not json',
      '    cid = c-8',
      '',
    ]);
  });

  it('prints JSON with --json', async () => {
    const result = await runCli(['dlq', 'show', 'orders.created', '1700000300000-0', '--url', url(), '--json']);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, kind: 'dead-letter', deadLetterKey: 'orders.created:dlq' });
    expect(doc.entry).toMatchObject({ id: '1700000300000-0', consumer: 'worker-2', data: { id: 9, sku: 'gizmo', customer: 'jon' } });
  });

  it('fails with one line for an id that is not there, and for a bad id', async () => {
    const missing = await runCli(['dlq', 'show', 'orders.created', '1700000000000-5', '--url', url()]);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', 'error: No dead letter 1700000000000-5 in orders.created:dlq\n']);
    const bad = await runCli(['dlq', 'show', 'orders.created', 'latest', '--url', url()]);
    expect([bad.code, bad.stderr]).toEqual([2, 'error: Bad entry id "latest": expected <ms>-<seq>, e.g. 1700000000000-0\n']);
  });
});
