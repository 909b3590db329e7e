// A local SMTP server (smtp-server) that accepts and keeps every message, parsed with mailparser.
// Plain SMTP on loopback (STARTTLS disabled), AUTH PLAIN/LOGIN checked when credentials are given.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  /** SMTP envelope. */
  from: string;
  to: string[];
  /** The user that authenticated, if any. */
  user: string | undefined;
  subject: string;
  text: string;
  html: string;
  headers: Map<string, unknown>;
  raw: string;
  at: number;
}

export class SmtpSink {
  readonly messages: ReceivedMail[] = [];
  readonly authFailures: string[] = [];
  port = 0;
  private readonly server: SMTPServer;

  constructor(opts: { username?: string; password?: string } = {}) {
    const needAuth = opts.username !== undefined;
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !needAuth,
      // loopback plain text is what tests use; the real deployment talks TLS to its smarthost
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, cb) => {
        if (auth.username === opts.username && auth.password === opts.password) return cb(null, { user: auth.username });
        this.authFailures.push(auth.username ?? '');
        cb(new Error('Invalid username or password'));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then((m) => {
              this.messages.push({
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
                user: typeof session.user === 'string' ? session.user : undefined,
                subject: m.subject ?? '',
                text: m.text ?? '',
                html: typeof m.html === 'string' ? m.html : '',
                headers: m.headers,
                raw: raw.toString('utf8'),
                at: Date.now(),
              });
              cb();
            })
            .catch((e: Error) => cb(e));
        });
      },
    });
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
