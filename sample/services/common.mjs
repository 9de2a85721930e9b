// Shared bits of the three sample services: configuration, a compact logger, a way to apply Nest's
// decorators from plain JavaScript, and a tiny Prometheus endpoint fed by the transport's events.
import 'reflect-metadata';
import { createServer } from 'node:http';
import { hostname } from 'node:os';

/** Every service reads its Redis from REDIS_URL. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Consumer name within the group. Stable across restarts of one container (hostname + pid 1), so a
 * restarted container takes its own pending entries back at once; unique per process on one host.
 */
export function consumerName(service) {
  return process.env.CONSUMER_NAME ?? `${service}-${hostname()}-${process.pid}`;
}

/** Port of the /metrics and /health endpoint; 0 picks a free one. */
export const METRICS_PORT = Number(process.env.METRICS_PORT ?? 9464);

// ---------------------------------------------------------------------------------------------
// Decorators without a compiler. TypeScript's `@EventPattern('x') handle(@Payload() d, @Ctx() c)`
// is, at run time, nothing more than these calls.

/** Applies method decorators (e.g. `EventPattern('orders.created')`, `Post()`) to `Class.prototype[method]`. */
export function decorateMethod(Class, method, ...decorators) {
  const proto = Class.prototype;
  for (const decorator of decorators) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, method);
    const result = decorator(proto, method, descriptor);
    if (result) Object.defineProperty(proto, method, result);
  }
}

/** Applies parameter decorators in order: `decorateParams(C, 'handle', Payload(), Ctx())` = (@Payload() a, @Ctx() b). */
export function decorateParams(Class, method, ...decorators) {
  decorators.forEach((decorator, index) => decorator(Class.prototype, method, index));
}

/** Constructor injection without emitDecoratorMetadata: `injectConstructor(C, Inject(TOKEN), Inject(Other))`. */
export function injectConstructor(Class, ...decorators) {
  decorators.forEach((decorator, index) => decorator(Class, undefined, index));
}

// ---------------------------------------------------------------------------------------------
// Logging: one short line per message. Nest's own start-up chatter is left out.

const QUIET_CONTEXTS = new Set([
  'NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestMicroservice',
]);

export class CompactLogger {
  constructor(service) {
    this.service = service;
    this.debugEnabled = process.env.LOG_LEVEL === 'debug';
  }
  log(message, ...rest) { this.#write('LOG', message, rest); }
  warn(message, ...rest) { this.#write('WARN', message, rest); }
  error(message, ...rest) { this.#write('ERROR', message, rest); }
  fatal(message, ...rest) { this.#write('FATAL', message, rest); }
  debug(message, ...rest) { if (this.debugEnabled) this.#write('DEBUG', message, rest); }
  verbose(message, ...rest) { if (this.debugEnabled) this.#write('VERBOSE', message, rest); }

  #write(level, message, rest) {
    // Nest calls logger.error(message, stack?, context?): the context is the last string argument.
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest[rest.length - 1] : undefined;
    if (level === 'LOG' && QUIET_CONTEXTS.has(context)) return;
    // Nest's RPC exception filter logs every handler error, and the transport then logs the same error
    // with what happens next ("-> retry in 200 ms" / "-> dead letter"): keep only the transport's line.
    if (context === 'RpcExceptionsHandler' && !this.debugEnabled) return;
    const stack = rest.find(r => typeof r === 'string' && r.includes('\n    at '));
    const text = message instanceof Error ? `${message.name}: ${message.message}` : typeof message === 'string' ? message : JSON.stringify(message);
    const line = `${new Date().toISOString().slice(11, 23)} ${level.padEnd(5)} ${context ? `[${context}] ` : ''}${text}`;
    (level === 'LOG' || level === 'DEBUG' || level === 'VERBOSE' ? process.stdout : process.stderr).write(
      line + (stack && this.debugEnabled ? `\n${stack}` : '') + '\n',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics: Prometheus text format by hand (no client library needed for a handful of counters).

export class Metrics {
  #families = new Map();

  /** A counter: `inc(labels?, n?)`. */
  counter(name, help) {
    const family = this.#family(name, help, 'counter');
    return {
      inc(labels = {}, n = 1) {
        const key = labelString(labels);
        family.values.set(key, (family.values.get(key) ?? 0) + n);
      },
    };
  }

  /** A gauge read when scraped: `collect()` returns a number. */
  gauge(name, help, collect) {
    this.#family(name, help, 'gauge').collect = collect;
  }

  render() {
    const lines = [];
    for (const [name, f] of this.#families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      if (f.collect) lines.push(`${name} ${Number(f.collect())}`);
      for (const [labels, value] of f.values) lines.push(`${name}${labels} ${value}`);
    }
    return lines.join('\n') + '\n';
  }

  #family(name, help, type) {
    if (!this.#families.has(name)) this.#families.set(name, { help, type, values: new Map() });
    return this.#families.get(name);
  }
}

function labelString(labels) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, c => (c === '\n' ? '\\n' : `\\${c}`))}"`).join(',')}}`;
}

/**
 * Counts what the transport reports through `server.on(...)`: failed attempts (retried or not),
 * dead letters by reason, entries claimed from other consumers, and the connection state.
 * Returns `isConnected()` for the health check.
 */
export function instrumentTransport(server, metrics) {
  const failures = metrics.counter('nestream_handler_failures_total', 'Failed handler attempts, by stream and what happens next (retry or dead_letter).');
  const deadLetters = metrics.counter('nestream_dead_letters_total', 'Entries moved to the dead-letter stream, by stream and reason.');
  const claimed = metrics.counter('nestream_claimed_total', 'Entries taken over from other consumers of the group.');
  let connected = false;
  server.on('connected', () => (connected = true));
  server.on('disconnected', () => (connected = false));
  server.on('reconnecting', () => (connected = false));
  server.on('failed', e => failures.inc({ stream: e.stream, next: e.retryAt === undefined ? 'dead_letter' : 'retry' }));
  server.on('deadLettered', e => deadLetters.inc({ stream: e.stream, reason: e.reason }));
  server.on('claimed', e => claimed.inc({ stream: e.stream }, e.ids.length));
  metrics.gauge('nestream_connected', 'Whether the reader connection to Redis is up (1) or not (0).', () => (connected ? 1 : 0));
  metrics.gauge('nestream_in_flight', 'Concurrency slots in use (server.stats.inFlight).', () => server.stats.inFlight);
  metrics.gauge('nestream_scheduled_retries', 'Entries waiting for their next attempt.', () => server.stats.scheduledRetries);
  return { isConnected: () => connected };
}

/**
 * Serves GET /metrics (Prometheus) and GET /health (200 once the transport is connected, else 503).
 * Resolves with the http.Server once listening; its port is `server.address().port`.
 */
export function serveMetrics(metrics, { port = METRICS_PORT, isHealthy = () => true, service } = {}) {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
    } else if (req.method === 'GET' && req.url === '/health') {
      const ok = isHealthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ service, ok }));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}

/**
 * Closes the Nest app (the transport drains handlers in flight, then acks) on SIGTERM/SIGINT, then
 * the metrics endpoint, then exits 0. A second signal exits at once.
 */
export function closeOnSignals(app, metricsServer, logger) {
  let closing = false;
  const onSignal = signal => {
    if (closing) process.exit(1);
    closing = true;
    logger.log(`${signal}: shutting down`, 'Main');
    app
      .close()
      .then(() => new Promise(resolve => metricsServer.close(() => resolve())))
      .then(
        () => process.exit(0),
        err => {
          logger.error(`shutdown failed: ${err?.message ?? err}`, 'Main');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** Prints a start-up failure and exits 1 (instead of an unhandled rejection). */
export function exitOnStartupError(logger) {
  return err => {
    logger.error(`failed to start: ${err?.stack ?? err}`, 'Main');
    process.exit(1);
  };
}

/**
 * Started by sample/demo.mjs (an IPC channel exists): tell it the service is listening and on which
 * ports. The channel is unref'd so it never keeps the process alive on its own.
 */
export function announceReady(info) {
  if (!process.send) return;
  process.send({ type: 'ready', ...info });
  process.channel?.unref();
}
