// Metrics every source reports the same way (names are relied on by prometheus/ rules and the
// `infrastructure` dashboard: see docs/METRICS.md).
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Messages of one source counted in plain fields, for a per-frame hot path: prom-client hashes the label
 * set on every labelled inc/set (~100 ns each, cached `labels()` children too). Handed to
 * feeder_messages_total and feeder_last_message_timestamp_seconds whenever those are collected (scrape).
 */
export interface MessageTally {
  /** Messages not yet added to feeder_messages_total. */
  count: number;
  /** Receive time of the last message, epoch ms (0 = none yet). */
  lastAtMs: number;
}

export function createSourceMetrics(registry: Registry) {
  const labelNames = ['source'] as const;
  const tallies = new Map<string, MessageTally>();
  return {
    messages: new Counter({
      name: 'feeder_messages_total',
      help: 'Messages, frames or items received',
      labelNames,
      registers: [registry],
      collect() {
        for (const [source, t] of tallies) {
          if (t.count === 0) continue;
          this.inc({ source }, t.count);
          t.count = 0;
        }
      },
    }),
    parseErrors: new Counter({
      name: 'feeder_parse_errors_total',
      help: 'Payloads rejected as malformed or unknown',
      labelNames: ['source', 'reason'] as const,
      registers: [registry],
    }),
    sourceErrors: new Counter({
      name: 'feeder_source_errors_total',
      help: 'Failed requests or connections, by kind (http_429, http_5xx, http_<status>, transport, timeout, parse)',
      labelNames: ['source', 'kind'] as const,
      registers: [registry],
    }),
    reconnects: new Counter({ name: 'feeder_reconnects_total', help: 'Reconnects or retries after a failure', labelNames, registers: [registry] }),
    lastMessage: new Gauge({
      name: 'feeder_last_message_timestamp_seconds',
      help: 'Unix time of the last message or successful poll',
      labelNames,
      registers: [registry],
      collect() {
        for (const [source, t] of tallies) if (t.lastAtMs > 0) this.set({ source }, t.lastAtMs / 1000);
      },
    }),
    up: new Gauge({ name: 'feeder_source_up', help: '1 while the source is connected or its last poll succeeded', labelNames, registers: [registry] }),
    /** The tally of `source` (one per source): count its messages there instead of messages/lastMessage. */
    tally(source: string): MessageTally {
      let t = tallies.get(source);
      if (!t) tallies.set(source, (t = { count: 0, lastAtMs: 0 }));
      return t;
    },
  };
}

export type SourceMetrics = ReturnType<typeof createSourceMetrics>;

/** Map an error to the `kind` label of feeder_source_errors_total. */
export function errorKind(err: unknown): string {
  // an error may name its own kind (Kraken's in-body API errors: `api_error`)
  const own = (err as { kind?: unknown }).kind;
  if (typeof own === 'string') return own;
  const status = (err as { status?: number }).status;
  if (typeof status === 'number') return status === 429 ? 'http_429' : status >= 500 ? 'http_5xx' : `http_${status}`;
  // a payload we could not understand is not a transport failure (it is also in feeder_parse_errors_total)
  if ((err as Error).name === 'ParseError') return 'parse';
  const code = (err as { code?: string }).code;
  if (code === 'ETIMEDOUT' || code === 'ECONNABORTED' || (err as Error).name === 'TimeoutError') return 'timeout';
  return 'transport';
}
