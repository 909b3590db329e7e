// Grafana Live for the market feeder: built from the config, or undefined when no token is configured
// (Live off; the dashboards keep polling InfluxDB). docs/GRAFANA_LIVE.md.
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

export function createGrafanaLive(cfg: MarketConfig, log: Logger, registry: Registry): GrafanaLiveSink | undefined {
  const token = liveTokenSource(cfg, log);
  if (!token) {
    log.info('Grafana Live off (no GRAFANA_LIVE_TOKEN / GRAFANA_LIVE_TOKEN_FILE)');
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
    log,
    registry,
  });
  log.info({ url: cfg.GRAFANA_LIVE_URL ?? cfg.GRAFANA_URL, stream: cfg.GRAFANA_LIVE_STREAM, maxHz: cfg.GRAFANA_LIVE_MAX_HZ }, 'Grafana Live on');
  return sink;
}
