// Features and decision rule of the trained headline-sentiment model (sentiment-model.ts), shared with its
// training script scripts/train-sentiment.ts so both hash and decide the same way (docs/SENTIMENT.md).
import { scoreHeadline } from './sentiment.js';

export const CLASSES = ['negative', 'neutral', 'positive'] as const;
/** Hashed text features; three lexicon features and a bias follow them. */
export const HASH_BITS = 15;
const BUCKETS = 1 << HASH_BITS;
export const DIM = BUCKETS + 4;

/** Lower-case word tokens; URLs dropped, cashtags and numbers folded, signed percentages kept as direction. */
export function tokens(text: string): string[] {
  const s = text
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/(^|\s)\+\s?\d+(\.\d+)?\s?%/g, ' pctup ')
    .replace(/(^|\s)[-\u2212]\s?\d+(\.\d+)?\s?%/g, ' pctdown ')
    .replace(/\$[a-z][a-z.]*/g, ' cashtag ')
    .replace(/\d+([.,]\d+)*/g, ' num ');
  return s.match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
}

// FNV-1a, 32 bit: stable across runs and platforms, so training and scoring agree on the buckets.
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Features {
  /** Indices of the active hashed features (each value 1/√n), sorted, unique. */
  idx: number[];
  val: number[];
}

/** Which feature groups a model uses; chosen by cross-validation in scripts/train-sentiment.ts. */
export interface FeatureOptions {
  /** Word bigrams besides unigrams. */
  bigrams: boolean;
  /** The lexicon's score (sentiment.ts) as three features; off = those three stay 0. */
  lexicon: boolean;
}
export const DEFAULT_FEATURES: FeatureOptions = { bigrams: true, lexicon: true };

/** Sparse feature vector of a headline: unigrams, bigrams, lexicon score (positive part, negative part, zero), bias. */
export function features(text: string, lexicon: number = scoreHeadline(text).score, opts: FeatureOptions = DEFAULT_FEATURES): Features {
  const t = tokens(text);
  const set = new Set<number>();
  for (let i = 0; i < t.length; i++) {
    set.add(hash(t[i]!) & (BUCKETS - 1));
    if (opts.bigrams && i + 1 < t.length) set.add(hash(`${t[i]} ${t[i + 1]}`) & (BUCKETS - 1));
  }
  const idx = [...set].sort((a, b) => a - b);
  const w = idx.length ? 1 / Math.sqrt(idx.length) : 0;
  const val = idx.map(() => w);
  if (opts.lexicon) {
    idx.push(BUCKETS, BUCKETS + 1, BUCKETS + 2);
    val.push(Math.max(lexicon, 0), Math.max(-lexicon, 0), lexicon === 0 ? 1 : 0);
  }
  idx.push(BUCKETS + 3);
  val.push(1);
  return { idx, val };
}

/** Class probabilities (negative, neutral, positive) for weights laid out class-major, DIM per class. */
export function probabilities(w: Float32Array | Float64Array, f: Features): [number, number, number] {
  const z = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const off = c * DIM;
    let s = 0;
    for (let k = 0; k < f.idx.length; k++) s += w[off + f.idx[k]!]! * f.val[k]!;
    z[c] = s;
  }
  const m = Math.max(z[0]!, z[1]!, z[2]!);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e[0]! + e[1]! + e[2]!;
  return [e[0]! / sum, e[1]! / sum, e[2]! / sum];
}

/** The lowest magnitude of a non-neutral score, so `label()` in sentiment.ts reads the model's decision. */
export const MIN_POLAR = 0.1;

/**
 * Score in [-1, 1] from class probabilities: 0 when neutral wins (after the neutral margin chosen on the
 * training data's own held-out split), otherwise P(positive) − P(negative), at least MIN_POLAR in magnitude.
 */
export function toScore(p: readonly [number, number, number], neutralMargin: number): number {
  const [neg, neu, pos] = p;
  if (neu + neutralMargin >= Math.max(neg, pos)) return 0;
  const d = pos - neg;
  const s = Math.sign(d) * Math.max(Math.abs(d), MIN_POLAR);
  return Math.max(-1, Math.min(1, s));
}

/**
 * How the lexicon's score and the model's score are combined into one (chosen by cross-validation in
 * scripts/train-sentiment.ts): `model` the model alone; `lexicon-first` the lexicon wherever it found sentiment
 * words, the model elsewhere; `override` the model unless the lexicon's score reaches `tau` in magnitude;
 * `blend` (1 − tau)·model + tau·lexicon.
 */
export interface HybridRule {
  kind: 'model' | 'lexicon-first' | 'override' | 'blend';
  tau: number;
}
export const HYBRID_RULES: HybridRule[] = [
  { kind: 'model', tau: 0 },
  { kind: 'lexicon-first', tau: 0 },
  ...[0.3, 0.45, 0.6, 0.75].map((tau) => ({ kind: 'override' as const, tau })),
  ...[0.25, 0.5].map((tau) => ({ kind: 'blend' as const, tau })),
];
export const hybridName = (r: HybridRule) => (r.kind === 'override' || r.kind === 'blend' ? `${r.kind} ${r.tau}` : r.kind);

export function combine(rule: HybridRule, lexicon: number, model: number): number {
  switch (rule.kind) {
    case 'model':
      return model;
    case 'lexicon-first':
      return lexicon !== 0 ? lexicon : model;
    case 'override':
      return Math.abs(lexicon) >= rule.tau ? lexicon : model;
    case 'blend':
      return (1 - rule.tau) * model + rule.tau * lexicon;
  }
}
