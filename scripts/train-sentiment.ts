// Trains the headline-sentiment model (feeders/src/news/sentiment-model.ts) and writes its weights to
// feeders/src/news/sentiment-model.weights.ts. Deterministic: same data, same weights.
//
//   node --conditions=source --import tsx scripts/train-sentiment.ts
//
// Data: testing/fixtures/sentiment-train/twitter-financial-news.csv (Twitter Financial News Sentiment,
// MIT; provenance in testing/fixtures/SOURCES.md). Labels 0 bearish → negative, 1 bullish → positive,
// 2 neutral. A fixed 15 % of it (by a hash of the text) is held out: it chooses the neutral margin and
// reports the model's own validation score. No evaluation set is read here (docs/SENTIMENT.md).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIM, features, probabilities, toScore, type Features } from '../feeders/src/news/sentiment-features.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TRAIN_CSV = path.join(root, 'testing/fixtures/sentiment-train/twitter-financial-news.csv');
const OUT = path.join(root, 'feeders/src/news/sentiment-model.weights.ts');

export interface Example {
  text: string;
  /** 0 negative, 1 neutral, 2 positive (the model's class order). */
  y: number;
}

/** RFC 4180-style rows `text,label` (quoted text may hold commas and doubled quotes). */
export function readCsv(file: string): Example[] {
  const src = readFileSync(file, 'utf8');
  const out: Example[] = [];
  const seen = new Set<string>();
  const map: Record<string, number> = { '0': 0, '1': 2, '2': 1 };
  for (const line of src.split('\n').slice(1)) {
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
  return out;
}

/** The fixed held-out part: 15 % of the rows by an FNV-1a hash of the text. */
export function isHeldOut(text: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 100 < 15;
}

function macroF1(ys: number[], ps: number[]): number {
  let f = 0;
  for (let c = 0; c < 3; c++) {
    const tp = ys.filter((y, i) => y === c && ps[i] === c).length;
    const fp = ys.filter((y, i) => y !== c && ps[i] === c).length;
    const fn = ys.filter((y, i) => y === c && ps[i] !== c).length;
    const p = tp + fp ? tp / (tp + fp) : 0;
    const r = tp + fn ? tp / (tp + fn) : 0;
    f += p + r ? (2 * p * r) / (p + r) : 0;
  }
  return f / 3;
}

const scoreClass = (s: number) => (s > 0 ? 2 : s < 0 ? 0 : 1);

export function train(data: Example[], opts = { epochs: 10, lr: 0.2, l2: 1e-4 }): Float64Array {
  const xs: Features[] = data.map((d) => features(d.text));
  const counts = [0, 1, 2].map((c) => data.filter((d) => d.y === c).length);
  const cw = counts.map((n) => data.length / (3 * Math.max(n, 1))); // balanced class weights
  const w = new Float64Array(3 * DIM);
  const g2 = new Float64Array(3 * DIM).fill(1e-8); // AdaGrad accumulators
  // deterministic shuffle (mulberry32)
  let seed = 20_171_105;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = data.map((_, i) => i);
  for (let e = 0; e < opts.epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of order) {
      const f = xs[i]!;
      const p = probabilities(w, f);
      for (let c = 0; c < 3; c++) {
        const err = (p[c]! - (data[i]!.y === c ? 1 : 0)) * cw[data[i]!.y]!;
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

export function evaluateSplit(w: Float64Array | Float32Array, data: Example[], margin: number): number {
  return macroF1(
    data.map((d) => d.y),
    data.map((d) => scoreClass(toScore(probabilities(w, features(d.text)), margin))),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const all = readCsv(TRAIN_CSV);
  const held = all.filter((d) => isHeldOut(d.text));
  const fit = all.filter((d) => !isHeldOut(d.text));
  const w = train(fit);
  let best = { margin: 0, f1: -1 };
  for (let m = -0.3; m <= 0.3001; m += 0.05) {
    const f1 = evaluateSplit(w, held, m);
    if (f1 > best.f1 + 1e-9) best = { margin: Math.round(m * 100) / 100, f1 };
  }
  const f32 = Float32Array.from(w);
  const b64 = Buffer.from(f32.buffer).toString('base64');
  writeFileSync(
    OUT,
    `// Generated by scripts/train-sentiment.ts — do not edit. Float32 weights, class-major (negative, neutral,\n` +
      `// positive), ${DIM} per class, base64. Trained on ${fit.length} rows, ${held.length} held out (docs/SENTIMENT.md).\n` +
      `export const MODEL = {\n  dim: ${DIM},\n  trainedOn: ${fit.length},\n  heldOut: ${held.length},\n  neutralMargin: ${best.margin},\n` +
      `  weights:\n    '${b64}',\n};\n`,
  );
  process.stdout.write(
    `${all.length} rows (${fit.length} fit, ${held.length} held out); held-out macro-F1 ${best.f1.toFixed(3)} at neutral margin ${best.margin}; ` +
      `fit-set macro-F1 ${evaluateSplit(w, fit, best.margin).toFixed(3)}; wrote ${OUT} (${(b64.length / 1024).toFixed(0)} KiB)\n`,
  );
}
