// Trains the headline-sentiment model (feeders/src/news/sentiment-model.ts) and writes its weights to
// feeders/src/news/sentiment-model.weights.ts. Deterministic: same data, same weights.
//
//   node --conditions=source --import tsx scripts/train-sentiment.ts          # CV table + weights
//
// Data (docs/SENTIMENT.md "Trained model"; provenance in testing/fixtures/SOURCES.md §15):
// testing/fixtures/sentiment-train/*.csv, rows `text,label` of Twitter Financial News Sentiment (MIT),
// labels 0 bearish → negative, 1 bullish → positive, 2 neutral.
//
// Model choice by 5-fold cross-validation on those rows only: every candidate (feature groups × L2) is
// trained on four folds and predicts the fifth; the pooled out-of-fold predictions give its macro-F1 and
// its neutral margin. The lexicon alone and the lexicon-first hybrid are scored on the same folds. The best
// candidate is then trained on all rows with its chosen margin. No evaluation set is read here.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { combine, DIM, features, HYBRID_RULES, hybridName, probabilities, toScore, type FeatureOptions, type Features, type HybridRule } from '../feeders/src/news/sentiment-features.js';
import { scoreHeadline } from '../feeders/src/news/sentiment.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TRAIN_DIR = path.join(root, 'testing/fixtures/sentiment-train');
export const TRAIN_FILES = ['twitter-financial-news-train.csv', 'twitter-financial-news-valid.csv'].map((f) => path.join(TRAIN_DIR, f));
const OUT = path.join(root, 'feeders/src/news/sentiment-model.weights.ts');

export interface Example {
  text: string;
  /** 0 negative, 1 neutral, 2 positive (the model's class order). */
  y: number;
}

/** Rows `text,label` (quoted text may hold commas and doubled quotes); a text seen before (any file) is kept once. */
export function readCsv(files: string[] = TRAIN_FILES): Example[] {
  const out: Example[] = [];
  const seen = new Set<string>();
  const map: Record<string, number> = { '0': 0, '1': 2, '2': 1 };
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      if (!line.trim()) continue;
      const comma = line.lastIndexOf(',');
      let text = line.slice(0, comma);
      const label = line.slice(comma + 1).trim();
      if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replace(/""/g, '"');
      const y = map[label];
      if (y === undefined) throw new Error(`bad label ${JSON.stringify(label)} in ${line}`);
      const key = text.toLowerCase().trim();
      if (seen.has(key)) continue; // the source's train and validation files share a few rows
      seen.add(key);
      out.push({ text, y });
    }
  }
  return out;
}

/** The project's hand-labelled headlines (feeders/test/news/headlines.labelled.json) in the model's class order. */
export function ownHeadlines(): Example[] {
  const file = path.join(root, 'feeders/test/news/headlines.labelled.json');
  const ys: Record<string, number> = { negative: 0, neutral: 1, positive: 2 };
  return (JSON.parse(readFileSync(file, 'utf8')) as { headlines: { headline: string; label: string }[] }).headlines.map((h) => ({ text: h.headline, y: ys[h.label]! }));
}

export const FOLDS = 5;
/** The cross-validation fold of a row: an FNV-1a hash of its text, so a row keeps its fold as files grow. */
export function foldOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % FOLDS;
}

export function macroF1(ys: number[], ps: number[]): number {
  let f = 0;
  for (let c = 0; c < 3; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < ys.length; i++) {
      if (ps[i] === c && ys[i] === c) tp++;
      else if (ps[i] === c) fp++;
      else if (ys[i] === c) fn++;
    }
    const p = tp + fp ? tp / (tp + fp) : 0;
    const r = tp + fn ? tp / (tp + fn) : 0;
    f += p + r ? (2 * p * r) / (p + r) : 0;
  }
  return f / 3;
}

export const scoreClass = (s: number) => (s > 0.05 ? 2 : s < -0.05 ? 0 : 1);

export interface TrainOptions {
  epochs: number;
  lr: number;
  l2: number;
}
export const TRAIN_DEFAULTS: TrainOptions = { epochs: 10, lr: 0.2, l2: 1e-4 };

/** Multinomial logistic regression, AdaGrad, balanced class weights, seeded shuffle. */
export function train(xs: Features[], ys: number[], opts: TrainOptions = TRAIN_DEFAULTS): Float64Array {
  const counts = [0, 1, 2].map((c) => ys.filter((y) => y === c).length);
  const cw = counts.map((n) => ys.length / (3 * Math.max(n, 1))); // balanced class weights
  const w = new Float64Array(3 * DIM);
  const g2 = new Float64Array(3 * DIM).fill(1e-8); // AdaGrad accumulators
  let seed = 20_171_105; // mulberry32
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = xs.map((_, i) => i);
  for (let e = 0; e < opts.epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of order) {
      const f = xs[i]!;
      const p = probabilities(w, f);
      for (let c = 0; c < 3; c++) {
        const err = (p[c]! - (ys[i] === c ? 1 : 0)) * cw[ys[i]!]!;
        const off = c * DIM;
        for (let k = 0; k < f.idx.length; k++) {
          const j = off + f.idx[k]!;
          const g = err * f.val[k]! + opts.l2 * w[j]!;
          g2[j] = g2[j]! + g * g;
          w[j] = w[j]! - (opts.lr * g) / Math.sqrt(g2[j]!);
        }
      }
    }
  }
  return w;
}

export const MARGINS = [-0.3, -0.25, -0.2, -0.15, -0.1, -0.05, 0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3];

export interface Candidate {
  features: FeatureOptions;
  l2: number;
}
export const CANDIDATES: Candidate[] = [false, true].flatMap((bigrams) =>
  [false, true].flatMap((lexicon) => [1e-5, 1e-4, 1e-3].map((l2) => ({ features: { bigrams, lexicon }, l2 }))),
);
export const candidateName = (c: Candidate) =>
  `words${c.features.bigrams ? '+bigrams' : ''}${c.features.lexicon ? '+lexicon' : ''}, L2 ${c.l2}`;

export interface CvResult {
  candidate: Candidate;
  margin: number;
  /** Macro-F1 of the pooled out-of-fold predictions at that margin. */
  f1: number;
  /** Macro-F1 of the lexicon-first hybrid built on it (lexicon score when the lexicon found words). */
  hybridF1: number;
  /** Out-of-fold class probabilities, row order of the data. */
  oof: [number, number, number][];
}

/** Cross-validates one candidate on the rows; lexicon scores are passed in (computed once). */
export function crossValidate(data: Example[], lex: number[], c: Candidate): CvResult {
  const xs = data.map((d, i) => features(d.text, lex[i], c.features));
  const ys = data.map((d) => d.y);
  const fold = data.map((d) => foldOf(d.text));
  const oof: [number, number, number][] = new Array(data.length);
  for (let k = 0; k < FOLDS; k++) {
    const fit = data.map((_, i) => i).filter((i) => fold[i] !== k);
    const w = train(fit.map((i) => xs[i]!), fit.map((i) => ys[i]!), { ...TRAIN_DEFAULTS, l2: c.l2 });
    for (let i = 0; i < data.length; i++) if (fold[i] === k) oof[i] = probabilities(w, xs[i]!);
  }
  let best = { margin: 0, f1: -1 };
  for (const m of MARGINS) {
    const f1 = macroF1(ys, oof.map((p) => scoreClass(toScore(p, m))));
    if (f1 > best.f1 + 1e-9) best = { margin: m, f1 };
  }
  const hybridF1 = macroF1(ys, oof.map((p, i) => scoreClass(lex[i] !== 0 ? lex[i]! : toScore(p, best.margin))));
  return { candidate: c, ...best, hybridF1, oof };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const data = readCsv();
  const lex = data.map((d) => scoreHeadline(d.text).score);
  const ys = data.map((d) => d.y);
  const lexF1 = macroF1(ys, lex.map(scoreClass));
  const counts = [0, 1, 2].map((c) => ys.filter((y) => y === c).length);
  const out: string[] = [];
  out.push(`${data.length} rows (${counts[0]} negative, ${counts[1]} neutral, ${counts[2]} positive), ${FOLDS}-fold CV`);
  out.push('', '| scorer | CV macro-F1 | hybrid (lexicon first) CV macro-F1 | neutral margin |', '|---|---|---|---|');
  out.push(`| lexicon alone (sentiment.ts) | ${lexF1.toFixed(3)} | – | – |`);
  const results = CANDIDATES.map((c) => crossValidate(data, lex, c));
  for (const r of results) out.push(`| ${candidateName(r.candidate)} | ${r.f1.toFixed(3)} | ${r.hybridF1.toFixed(3)} | ${r.margin} |`);
  const best = results.reduce((a, b) => (b.f1 > a.f1 + 1e-9 ? b : a));
  out.push('', `chosen: ${candidateName(best.candidate)} (CV macro-F1 ${best.f1.toFixed(3)}, hybrid ${best.hybridF1.toFixed(3)}, lexicon ${lexF1.toFixed(3)})`);

  // How lexicon and model are combined: every rule on the chosen candidate's out-of-fold scores, best CV wins.
  const ruleF1 = (r: HybridRule) => macroF1(ys, best.oof.map((p, i) => scoreClass(combine(r, lex[i]!, toScore(p, best.margin)))));
  const rules = HYBRID_RULES.map((r) => ({ rule: r, f1: ruleF1(r) }));
  out.push('', '| combination rule | CV macro-F1 |', '|---|---|', ...rules.map((r) => `| ${hybridName(r.rule)} | ${r.f1.toFixed(3)} |`));
  const bestRule = rules.reduce((a, b) => (b.f1 > a.f1 + 1e-9 ? b : a));
  out.push('', `chosen rule: ${hybridName(bestRule.rule)} (CV macro-F1 ${bestRule.f1.toFixed(3)})`);

  const xs = data.map((d, i) => features(d.text, lex[i], best.candidate.features));
  const w = train(xs, ys, { ...TRAIN_DEFAULTS, l2: best.candidate.l2 });
  const f32 = Float32Array.from(w);
  const b64 = Buffer.from(f32.buffer).toString('base64');
  const meta = {
    dim: DIM,
    trainedOn: data.length,
    features: best.candidate.features,
    l2: best.candidate.l2,
    neutralMargin: best.margin,
    rule: bestRule.rule,
    cv: { folds: FOLDS, model: Number(best.f1.toFixed(4)), hybrid: Number(best.hybridF1.toFixed(4)), rule: Number(bestRule.f1.toFixed(4)), lexicon: Number(lexF1.toFixed(4)) },
  };
  writeFileSync(
    OUT,
    `// Generated by scripts/train-sentiment.ts — do not edit. Float32 weights, class-major (negative, neutral,\n` +
      `// positive), ${DIM} per class, base64; chosen and figured by ${FOLDS}-fold CV on the training rows (docs/SENTIMENT.md).\n` +
      `export const MODEL = {\n${Object.entries(meta).map(([k, v]) => `  ${k}: ${JSON.stringify(v)},`).join('\n')}\n` +
      `  weights:\n    '${b64}',\n};\n`,
  );
  out.push(`wrote ${path.relative(root, OUT)} (${(b64.length / 1024).toFixed(0)} KiB)`);

  // Which scorer the feeder uses: the project's own labelled feed headlines are news, not tweets, and share
  // no row with the training data — the out-of-domain check beside the CV (docs/SENTIMENT.md).
  const own = ownHeadlines();
  const ownLex = own.map((d) => scoreHeadline(d.text).score);
  const ownModel = own.map((d, i) => toScore(probabilities(f32, features(d.text, ownLex[i], best.candidate.features)), best.margin));
  const oy = own.map((d) => d.y);
  out.push('', `project's labelled feed headlines (${own.length}, feeders/test/news/headlines.labelled.json), macro-F1:`);
  out.push(`lexicon ${macroF1(oy, ownLex.map(scoreClass)).toFixed(3)}; ${HYBRID_RULES.map((r) => `${hybridName(r)} ${macroF1(oy, own.map((_, i) => scoreClass(combine(r, ownLex[i]!, ownModel[i]!)))).toFixed(3)}`).join('; ')}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
