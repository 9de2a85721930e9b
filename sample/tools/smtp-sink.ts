import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

export interface SmtpSinkOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Every n-th message is refused with a temporary error (451) after its data was sent; 0 = never. @default 0 */
  failEvery?: number;
  /** Recipients at this domain are refused for good (550, unknown mailbox). @default 'bounce.example' */
  bounceDomain?: string;
}

/** A mail the sink accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  receivedAt: number;
}

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1 that keeps what it receives in memory, refuses
 * mailboxes at the bounce domain for good and, if asked, refuses every n-th message for now: the mail server of
 * the demo and of the tests. No TLS, no authentication.
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** Messages refused with 451 (the sender should try again). */
  temporaryFailures = 0;
  /** Recipients refused with 550. */
  bounces = 0;
  private messages = 0;
  private readonly server: SMTPServer;
  private listeningPort = 0;

  private constructor(private readonly options: Required<SmtpSinkOptions>) {
    this.server = new SMTPServer({
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        if (address.address.toLowerCase().endsWith(`@${this.options.bounceDomain}`)) {
          this.bounces++;
          callback(smtpError(550, `5.1.1 <${address.address}>: mailbox unavailable`));
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => this.receive(stream, session, callback),
    });
  }

  static async start(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const sink = new SmtpSink({ port: 0, failEvery: 0, bounceDomain: 'bounce.example', ...options });
    await new Promise<void>((resolve, reject) => {
      sink.server.once('error', reject);
      sink.server.listen(sink.options.port, '127.0.0.1', () => resolve());
    });
    sink.listeningPort = (sink.server.server.address() as AddressInfo).port;
    return sink;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** The SMTP_URL of the mailer. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Mails accepted for `recipient`. */
  mailsTo(recipient: string): ReceivedMail[] {
    return this.received.filter(m => m.to.includes(recipient.toLowerCase()));
  }

  stop(): Promise<void> {
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private receive(
    stream: SMTPServerDataStream,
    session: { envelope: { mailFrom: false | { address: string }; rcptTo: Array<{ address: string }> } },
    callback: (err?: Error | null) => void,
  ): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      this.messages++;
      if (this.options.failEvery > 0 && this.messages % this.options.failEvery === 0) {
        this.temporaryFailures++;
        callback(smtpError(451, '4.3.0 temporary failure, try again later'));
        return;
      }
      const headers = parseHeaders(Buffer.concat(chunks).toString('utf8'));
      this.received.push({
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map(r => r.address.toLowerCase()),
        subject: headers.get('subject') ?? '',
        messageId: headers.get('message-id') ?? '',
        receivedAt: Date.now(),
      });
      callback();
    });
  }
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The header block of a message (until the first empty line), unfolded, names lower-cased. */
function parseHeaders(message: string): Map<string, string> {
  const block = message.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}
