import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killProcess, spawnRedisServer } from './redis-process.js';

/** A redis-server started by the tests that speaks TLS only, with a certificate from a CA made for it. */
export interface TlsRedis {
  port: number;
  /** `rediss://127.0.0.1:<port>` */
  url: string;
  /** The test CA's certificate (PEM): what `tls: { ca }` must trust. */
  ca: Buffer;
  /** The host names the server certificate is valid for. */
  names: string[];
  stop(): Promise<void>;
}

const SERVER_NAMES = ['localhost', '127.0.0.1'];

/**
 * Makes a CA and a server certificate (P-256 keys, valid one day, for localhost and 127.0.0.1) with `openssl`
 * in a temp dir, then starts `redis-server --port 0 --tls-port <free port>` with them. Client certificates
 * are not required (`--tls-auth-clients no`): the tests are about the client checking the server.
 */
export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'nestream-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=nestream test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(file('server.ext'), `subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.crt', '-days', '1', '-extfile', 'server.ext');

  const port = await freePort();
  const proc = await spawnRedisServer([
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'), '--tls-ca-cert-file', file('ca.crt'),
    '--tls-auth-clients', 'no', '--protected-mode', 'no',
  ]);

  return {
    port,
    url: `rediss://127.0.0.1:${port}`,
    ca: readFileSync(file('ca.crt')),
    names: SERVER_NAMES,
    async stop() {
      await killProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
