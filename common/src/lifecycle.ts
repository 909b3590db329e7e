// SIGTERM/SIGINT: run the registered closers (last registered first: stop intake, then flush sinks,
// then close servers), bounded by a deadline, then exit. A second signal exits at once.
import type { Logger } from 'pino';

type Closer = { name: string; close: () => Promise<void> | void };

export class Lifecycle {
  private closers: Closer[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger, private readonly deadlineMs = 15_000) {}

  /** Register something to close on shutdown. Closed in reverse order of registration. */
  add(name: string, close: Closer['close']): void {
    this.closers.push({ name, close });
  }

  installSignalHandlers(exit: (code: number) => void = (c) => process.exit(c)): void {
    let signalled = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalled) {
        this.log.warn({ sig }, 'second signal, exiting now');
        exit(1);
        return;
      }
      signalled = true;
      this.log.info({ sig }, 'shutting down');
      void this.shutdown().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.runClosers();
    return this.stopping;
  }

  private async runClosers(): Promise<void> {
    const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.deadlineMs).unref());
    let failed = false;
    for (const c of [...this.closers].reverse()) {
      try {
        const res = await Promise.race([Promise.resolve(c.close()).then(() => 'ok' as const), deadline]);
        if (res === 'timeout') {
          this.log.error({ closer: c.name }, 'shutdown deadline reached');
          failed = true;
          break;
        }
      } catch (err) {
        failed = true;
        this.log.error({ err, closer: c.name }, 'error while closing');
      }
    }
    this.log.info({ ok: !failed }, 'shutdown complete');
    if (failed) throw new Error('shutdown incomplete');
  }
}
