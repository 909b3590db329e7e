import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { label, scoreHeadline } from '../../src/news/sentiment.js';
import { DIM, features, tokens } from '../../src/news/sentiment-features.js';
import { MODEL_INFO, scoreHeadlineHybrid, scoreHeadlineModel } from '../../src/news/sentiment-model.js';
import { isHeldOut, readCsv, TRAIN_CSV } from '../../../scripts/train-sentiment.js';
import { evaluate, type Labelled } from './sentiment-eval.js';

const NAMES = ['negative', 'neutral', 'positive'] as const;
const heldOut = (): Labelled[] =>
  readCsv(TRAIN_CSV)
    .filter((d) => isHeldOut(d.text))
    .map((d) => ({ headline: d.text, label: NAMES[d.y]!, source: 'twitter-financial-news' }));

test('the committed weights load, match the feature layout, and are the training script’s split', () => {
  assert.ok(MODEL_INFO.trainedOn > 1500 && MODEL_INFO.heldOut > 250, JSON.stringify(MODEL_INFO));
  const all = readCsv(TRAIN_CSV);
  assert.equal(all.filter((d) => isHeldOut(d.text)).length, MODEL_INFO.heldOut, 'weights were trained on this split of this file');
  assert.equal(all.length - MODEL_INFO.heldOut, MODEL_INFO.trainedOn);
  const f = features('Bitcoin surges 10% after ETF approval');
  assert.ok(f.idx.every((i) => i >= 0 && i < DIM));
  // the generated file stays well under the 5 MB budget (docs/SENTIMENT.md)
  const size = readFileSync(new URL('../../src/news/sentiment-model.weights.ts', import.meta.url)).length;
  assert.ok(size < 5 * 1024 * 1024, `${size} bytes`);
});

test('held-out part of the training data: the model beats the lexicon there (its own validation, not the independent set)', () => {
  const data = heldOut();
  const lex = evaluate(data, scoreHeadline);
  const model = evaluate(data, scoreHeadlineModel);
  console.log(`held-out n=${data.length}: lexicon macroF1=${lex.macroF1.toFixed(3)} model macroF1=${model.macroF1.toFixed(3)}`);
  assert.ok(model.macroF1 >= 0.74, `model ${model.macroF1}`);
  assert.ok(model.macroF1 >= lex.macroF1 + 0.1, 'model ≥ lexicon + 0.1 on its own held-out tweets');
});

test('known held-out rows score the way their annotators labelled them', () => {
  const rows = new Map(heldOut().map((d) => [d.headline, d.label]));
  for (const [text, want] of [
    ['Netflix downgraded to underperform at Wells Fargo', 'negative'],
    ['Twitter upgraded to positive from neutral at Susquehanna', 'positive'],
    ['$PI - Impinj plans $75M private offering', 'neutral'],
    ['NortonLifeLock stock price target cut to $18 from $25 at Deutsche Bank', 'negative'],
  ] as const) {
    assert.equal(rows.get(text), want, `${text} is a held-out row labelled ${want}`);
    assert.equal(label(scoreHeadlineModel(text).score), want, text);
  }
  // a known miss of the model that the lexicon (and so the hybrid) gets right: bankruptcy vocabulary is rare in the tweets
  const miss = 'Tuna maker Bumble Bee Foods has filed for Chapter 11 bankruptcy protection.';
  assert.equal(rows.get(miss), 'negative');
  assert.equal(label(scoreHeadlineModel(miss).score), 'neutral');
  assert.equal(label(scoreHeadlineHybrid(miss).score), 'negative');
  // and every held-out row with a strong signal: direction agrees for most of them
  const strong = heldOut().filter((d) => /\b(downgraded|plunges?|tumbles?|upgraded|soars?|surges?)\b/i.test(d.headline) && d.label !== 'neutral');
  const agree = strong.filter((d) => label(scoreHeadlineModel(d.headline).score) === d.label).length;
  assert.ok(strong.length >= 10 && agree / strong.length >= 0.8, `${agree}/${strong.length}`);
});

test('scores are deterministic, in [-1, 1], and the empty headline is neutral', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      for (const fn of [scoreHeadlineModel, scoreHeadlineHybrid]) {
        const a = fn(s).score;
        assert.ok(a >= -1 && a <= 1 && Number.isFinite(a));
        assert.equal(fn(s).score, a);
      }
    }),
    { numRuns: 300 },
  );
  assert.equal(scoreHeadlineModel('').score, 0);
  // hybrid: the lexicon decides whenever it found sentiment words
  const t = 'Bitcoin plunges 12% after exchange hack';
  assert.equal(scoreHeadlineHybrid(t).score, scoreHeadline(t).score);
});

test('tokens: URLs dropped, signed percentages kept as direction, cashtags and numbers folded', () => {
  assert.deepEqual(tokens('$ZS - Zscaler +4% on beat https://t.co/abc'), ['cashtag', 'zscaler', 'pctup', 'on', 'beat']);
  assert.deepEqual(tokens('Kohl’s -11% after profit view slashed'), ["kohl's", 'pctdown', 'after', 'profit', 'view', 'slashed']);
  assert.deepEqual(tokens('EPS of $1.41 vs 1,200'), ['eps', 'of', 'num', 'vs', 'num']);
});
