// Fear & Greed index (alternative.me), every FEAR_GREED_POLL_MS (1 h; the index itself changes once a
// day, at 00:00 UTC). Each reading → one `fear_greed` point in markets/raw; the same day polled again is
// the same point (same timestamp), so InfluxDB keeps one.
import type { InfluxSink } from '@mt/common';
import { PolledSource, expectJson, marketGet, type PolledSourceDeps } from '../polled-source.js';
import { fearGreedPoint } from '@mt/common';
import type { FearGreed } from '../types.js';
import { fearGreedFromBody } from './mapper.js';

export interface FearGreedSourceOptions extends PolledSourceDeps {
  url: string;
  sink: Pick<InfluxSink, 'write'>;
}

export class FearGreedSource extends PolledSource<FearGreed> {
  last: FearGreed | undefined;

  constructor(private readonly o: FearGreedSourceOptions) {
    super('fear_greed', o);
  }

  protected async fetch(signal: AbortSignal): Promise<FearGreed> {
    const u = new URL(this.o.url);
    u.searchParams.set('limit', '1');
    const fg = fearGreedFromBody(expectJson(await marketGet(u.toString(), { signal, source: this.name }), this.name));
    this.metrics.messages.inc({ source: this.name });
    return fg;
  }

  protected onData(fg: FearGreed): void {
    this.last = fg;
    this.o.sink.write('markets/raw', fearGreedPoint(fg));
  }

  override health(): Record<string, unknown> {
    return { ...super.health(), last: this.last ?? null };
  }
}
