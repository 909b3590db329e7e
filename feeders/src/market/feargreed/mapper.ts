// alternative.me Fear & Greed body → FearGreed. Pure; shape as in testing/fixtures/alternative_me:
// `data[0]` is the newest reading, `value` and `timestamp` (Unix seconds, 00:00 UTC) are STRINGS.
import { ParseError } from '@mt/common';
import { isObject } from '../polled-source.js';
import type { FearGreed } from '../types.js';

export function fearGreedFromBody(body: unknown): FearGreed {
  if (!isObject(body)) throw new ParseError('fear_greed: body is not an object', 'unexpected_shape', JSON.stringify(body)?.slice(0, 200));
  const err = isObject(body.metadata) ? body.metadata.error : undefined;
  if (err) throw new ParseError(`fear_greed: API error ${JSON.stringify(err)}`, 'api_error', JSON.stringify(err).slice(0, 200));
  const d = Array.isArray(body.data) ? body.data[0] : undefined;
  if (!isObject(d)) throw new ParseError('fear_greed: no data[0]', 'unexpected_shape', JSON.stringify(body).slice(0, 200));
  const value = Number(d.value);
  const ts = Number(d.timestamp) * 1000;
  const classification = d.value_classification;
  if (!Number.isInteger(value) || value < 0 || value > 100 || !Number.isFinite(ts) || ts <= 0 || typeof classification !== 'string' || !classification) {
    throw new ParseError('fear_greed: data[0] lacks a 0–100 value, a timestamp or a classification', 'bad_item', JSON.stringify(d).slice(0, 200));
  }
  return { ts, value, classification };
}
