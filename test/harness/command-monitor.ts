import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** One command as Redis's MONITOR shows it: the arguments, and who sent it (`127.0.0.1:51152`, or `lua`). */
export interface MonitoredCommand {
  args: string[];
  source: string;
}

export interface CommandMonitor {
  /** Stops watching (closes the connection). */
  stop(): void;
}

/*
 * Why not ioredis's `monitor()`: it switches its connection to monitor mode one microtask after MONITOR's +OK, so
 * when the first monitored line arrives in the same read as the +OK, ioredis takes it for a reply and fails with
 * "Command queue state error" (seen in CI on a Redis with consumers running). A socket of our own reads every
 * line after the +OK as a monitored command.
 */
/** Watches every command the Redis on `port` runs, from when the returned promise resolves. */
export async function monitorCommands(port: number, onCommand: (command: MonitoredCommand) => void, host = '127.0.0.1'): Promise<CommandMonitor> {
  const socket: Socket = connect(port, host);
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let buffered = '';
  let monitoring = false;
  const started = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!monitoring) {
          if (line !== '+OK') return reject(new Error(`MONITOR answered ${line}`));
          monitoring = true;
          resolve();
        } else {
          const command = parseMonitorLine(line);
          if (command) onCommand(command);
        }
      }
    });
    socket.once('error', reject);
  });
  socket.write('MONITOR\r\n');
  await started;
  socket.on('error', () => undefined); // a server stopped before the monitor is: nothing left to watch
  return { stop: () => socket.destroy() };
}

/** `+1796646438.804109 [0 127.0.0.1:51152] "xreadgroup" "GROUP" ...` -> args and source; undefined for other lines. */
function parseMonitorLine(line: string): MonitoredCommand | undefined {
  const head = /^\+\d+\.\d+ \[\d+ (\S+)\] /.exec(line);
  if (!head) return undefined;
  const args: string[] = [];
  let i = head[0].length;
  while (i < line.length) {
    if (line[i] !== '"') {
      i++;
      continue;
    }
    let arg = '';
    for (i++; line[i] !== '"'; i++) {
      if (line[i] !== '\\') {
        arg += line[i];
        continue;
      }
      // Redis quotes arguments as sdscatrepr does: \\ \" \n \r \t \a \b, and \xHH for other bytes.
      const escaped = line[++i];
      if (escaped === 'x') {
        arg += String.fromCharCode(parseInt(line.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        arg += ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[escaped] ?? escaped;
      }
    }
    args.push(arg);
    i++;
  }
  return { args, source: head[1] };
}
