// Grafana Live for the market feeder: built from the config, or undefined when Live is off
// (GRAFANA_LIVE=off, or no token configured; the dashboards keep polling InfluxDB). docs/GRAFANA_LIVE.md.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MarketConfig } from '../config.js';
import { GrafanaLiveSink } from './sink.js';

export { GrafanaLiveSink, type GrafanaLiveOptions } from './sink.js';
export { LIVE_MEASUREMENTS } from './lines.js';

/** The token from GRAFANA_LIVE_TOKEN, else read from GRAFANA_LIVE_TOKEN_FILE on every call (bootstrap may write it late). */
export function liveTokenSource(cfg: Pick<MarketConfig, 'GRAFANA_LIVE_TOKEN' | 'GRAFANA_LIVE_TOKEN_FILE'>, log: Logger): (() => string | undefined) | undefined {
  if (cfg.GRAFANA_LIVE_TOKEN) {
    const t = cfg.GRAFANA_LIVE_TOKEN;
    return () => t;
  }
  const file = cfg.GRAFANA_LIVE_TOKEN_FILE;
  if (!file) return undefined;
  let cached: string | undefined;
  let warned = false;
  return () => {
    try {
      cached = readFileSync(file, 'utf8').trim() || undefined;
    } catch (err) {
      if (!warned) log.warn({ err: String(err), file }, 'GRAFANA_LIVE_TOKEN_FILE unreadable: Live pushes wait for it');
      warned = true;
      cached = undefined;
    }
    return cached;
  };
}

type LiveConfig = Pick<MarketConfig, 'GRAFANA_LIVE' | 'GRAFANA_LIVE_TOKEN' | 'GRAFANA_LIVE_TOKEN_FILE'>;

/** Why Live is off, or undefined when it is on: `GRAFANA_LIVE=off`, else no token configured. */
export function liveOffReason(cfg: LiveConfig): string | undefined {
  if (cfg.GRAFANA_LIVE === 'off') return 'GRAFANA_LIVE=off';
  if (!cfg.GRAFANA_LIVE_TOKEN && !cfg.GRAFANA_LIVE_TOKEN_FILE) return 'no GRAFANA_LIVE_TOKEN / GRAFANA_LIVE_TOKEN_FILE';
  return undefined;
}

export function createGrafanaLive(cfg: MarketConfig, log: Logger, registry: Registry): GrafanaLiveSink | undefined {
  const off = liveOffReason(cfg);
  const token = off ? undefined : liveTokenSource(cfg, log);
  if (!token) {
    log.info({ reason: off }, `Grafana Live off (${off}): nothing is pushed, the dashboards read InfluxDB only`);
    return undefined;
  }
  let current = token();
  const sink = new GrafanaLiveSink({
    url: cfg.GRAFANA_LIVE_URL ?? cfg.GRAFANA_URL,
    stream: cfg.GRAFANA_LIVE_STREAM,
    // the file is read once and again only after a refusal, not per push
    token: () => current,
    onAuthFailure: () => {
      current = token();
    },
    maxHz: cfg.GRAFANA_LIVE_MAX_HZ,
    maxQueue: cfg.GRAFANA_LIVE_MAX_QUEUE,
    flushMs: cfg.GRAFANA_LIVE_FLUSH_MS,
    log,
    registry,
  });
  log.info({ url: cfg.GRAFANA_LIVE_URL ?? cfg.GRAFANA_URL, stream: cfg.GRAFANA_LIVE_STREAM, maxHz: cfg.GRAFANA_LIVE_MAX_HZ, flushMs: cfg.GRAFANA_LIVE_FLUSH_MS }, 'Grafana Live on');
  return sink;
}
