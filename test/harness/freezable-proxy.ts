import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of Redis that can freeze current connections: they stay open but nothing passes
 * any more, the way a half-dead network path or a hung socket behaves. New connections pass.
 * freeze(name) freezes only connections that sent `CLIENT SETNAME <name>`.
 * loseReplies(name) lets commands through to Redis but drops what Redis answers (replies lost on the way
 * back); cut(name) then closes those connections, so the client reconnects with its commands unanswered.
 * dropRepliesAfter(name, request) lets the next request containing `request` (any case) on such a connection reach
 * Redis but drops every reply from then on: a command that ran whose reply was lost.
 * holdReplies(name) keeps Redis's replies on such connections back, in order, until releaseReplies(name) passes
 * them on: commands that ran, whose replies arrive late.
 */
export interface FreezableProxy {
  port: number;
  url: string;
  freeze(name?: string): void;
  loseReplies(name?: string): void;
  cut(name?: string): void;
  dropRepliesAfter(name: string, request: string): void;
  holdReplies(name: string): void;
  releaseReplies(name: string): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
  /** Replies are dropped (loseReplies, or dropRepliesAfter once its request went through). */
  repliesLost: boolean;
  sent: string;
  dropAfter?: string;
  /** Replies kept back (holdReplies), in arrival order, until releaseReplies. */
  held?: Buffer[];
}

export async function startProxy(targetPort: number): Promise<FreezableProxy> {
  const pairs: Pair[] = [];
  const server: Server = createServer(client => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream, frozen: false, repliesLost: false, sent: '' };
    pairs.push(pair);
    client.on('data', d => {
      if (pair.sent.length < 4096) pair.sent += d.toString('latin1');
      if (pair.dropAfter !== undefined && d.toString('latin1').toLowerCase().includes(pair.dropAfter)) pair.repliesLost = true;
      if (!pair.frozen) upstream.write(d);
    });
    upstream.on('data', d => {
      if (pair.frozen || pair.repliesLost) return;
      if (pair.held) pair.held.push(d);
      else client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    freeze(name?: string) {
      for (const p of pairs) if (!name || p.sent.includes(name)) p.frozen = true;
    },
    loseReplies(name?: string) {
      for (const p of pairs) if (!name || p.sent.includes(name)) p.repliesLost = true;
    },
    cut(name?: string) {
      for (const p of pairs) {
        if (name && !p.sent.includes(name)) continue;
        p.client.destroy();
        p.upstream.destroy();
      }
    },
    dropRepliesAfter(name: string, request: string) {
      for (const p of pairs) if (p.sent.includes(name)) p.dropAfter = request.toLowerCase();
    },
    holdReplies(name: string) {
      for (const p of pairs) if (p.sent.includes(name)) p.held ??= [];
    },
    releaseReplies(name: string) {
      for (const p of pairs) {
        if (!p.sent.includes(name) || !p.held) continue;
        const held = p.held;
        p.held = undefined;
        for (const d of held) p.client.write(d);
      }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise(r => server.close(r));
    },
  };
}
