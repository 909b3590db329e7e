// Which watch symbols the primary source (Yahoo) is failing right now, per symbol: the Yahoo source
// reports every poll (a tick → served; a refused or failed request → failing), the fallback sources
// (Alpha Vantage, ExchangeRate-API) poll only the failing ones, so a symbol falls back after one failed
// Yahoo poll and returns to Yahoo at the first poll that serves it again. docs/SOURCES.md, "Fallback sources".
import type { Logger } from 'pino';
import type { AssetType, WatchItem } from '@mt/common';

export class PrimaryHealth {
  private readonly failing = new Map<string, WatchItem>();

  constructor(private readonly log: Logger) {}

  /**
   * One primary poll's outcome: `served` got a quote, `failed` did not (unknown symbols are neither).
   * Returns the symbols back from the fallbacks: the primary hands their quote on even if unchanged.
   */
  report(served: Iterable<WatchItem>, failed: Iterable<WatchItem>): string[] {
    const back = [...served].filter((i) => this.failing.delete(i.symbol)).map((i) => i.symbol);
    const down = [...failed].filter((i) => !this.failing.has(i.symbol));
    for (const i of down) this.failing.set(i.symbol, i);
    // one line per change of state, not per poll
    if (down.length) this.log.warn({ symbols: down.map((i) => i.symbol) }, 'primary source failing for these symbols: fallback sources take over');
    if (back.length) this.log.info({ symbols: back }, 'primary source serves these symbols again: fallback off');
    return back;
  }

  /** The failing symbols of these asset types, in watch order. */
  failingOf(types: readonly AssetType[]): WatchItem[] {
    return [...this.failing.values()].filter((i) => types.includes(i.asset_type));
  }

  /** Symbols that left the watch set are no longer anyone's concern. */
  setWatch(items: WatchItem[]): void {
    const keep = new Set(items.map((i) => i.symbol));
    for (const s of this.failing.keys()) if (!keep.has(s)) this.failing.delete(s);
  }
}

/**
 * A free plan's daily request allowance, spread over the day: at most `limit` requests per UTC day and
 * at least 24 h / `limit` between two, so a long outage is covered all day rather than for the first
 * `limit` minutes. `exhaust()` when the provider says the allowance is gone (until the next UTC day).
 */
export class DailyBudget {
  private day = -1;
  private used = 0;
  private last = -Infinity;
  readonly spacingMs: number;

  constructor(readonly limit: number) {
    this.spacingMs = 86_400_000 / limit;
  }

  /** Whether a request may go out at `now`; if so it is counted. */
  take(now: number): boolean {
    this.roll(now);
    if (this.used >= this.limit || now - this.last < this.spacingMs) return false;
    this.used++;
    this.last = now;
    return true;
  }

  exhaust(now: number): void {
    this.roll(now);
    this.used = this.limit;
  }

  /** Requests left today (health). */
  left(now: number): number {
    this.roll(now);
    return this.limit - this.used;
  }

  private roll(now: number): void {
    const day = Math.floor(now / 86_400_000);
    if (day !== this.day) {
      this.day = day;
      this.used = 0;
    }
  }
}
