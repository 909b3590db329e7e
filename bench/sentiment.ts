// Per-headline CPU cost of the sentiment scorers (docs/SENTIMENT.md, BENCHMARKS.md): the floor (tokenising
// only), plain AFINN-165 and the lexicon (the peers), the trained model and the lexicon-first hybrid, over the
// headlines of the model's training files, in one process.
//
//   node --conditions=source --import tsx bench/sentiment.ts
import { scoreHeadline, scorePlainAfinn } from '../feeders/src/news/sentiment.js';
import { tokens } from '../feeders/src/news/sentiment-features.js';
import { scoreHeadlineHybrid, scoreHeadlineModel } from '../feeders/src/news/sentiment-model.js';
import { readCsv } from '../scripts/train-sentiment.js';
import { median, saveResult } from './lib.js';

const texts = readCsv().map((d) => d.text);
let sink = 0;
const cases: Record<string, (t: string) => number> = {
  'floor: tokens only': (t) => tokens(t).length,
  'peer: plain AFINN-165': (t) => scorePlainAfinn(t).score,
  'peer: lexicon (sentiment.ts)': (t) => scoreHeadline(t).score,
  'trained model': (t) => scoreHeadlineModel(t).score,
  'hybrid (lexicon, model when no lexicon evidence)': (t) => scoreHeadlineHybrid(t).score,
};
const out: Record<string, { medianUs: number; runsUs: number[] }> = {};
for (const [name, fn] of Object.entries(cases)) {
  const runs: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = process.hrtime.bigint();
    for (const t of texts) sink += fn(t);
    runs.push(Number(process.hrtime.bigint() - t0) / 1000 / texts.length);
  }
  const kept = runs.slice(2); // the first runs warm up the JIT
  out[name] = { medianUs: median(kept), runsUs: kept };
  process.stdout.write(`${name}: ${median(kept).toFixed(1)} µs/headline (median of ${kept.length} runs, ${Math.min(...kept).toFixed(1)}–${Math.max(...kept).toFixed(1)})\n`);
}
saveResult('sentiment', { headlines: texts.length, us: out, sink });
