import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { label, scoreHeadline } from '../../src/news/sentiment.js';
import { DIM, features, probabilities, toScore, tokens } from '../../src/news/sentiment-features.js';
import { MODEL_INFO, scoreHeadlineCombined, scoreHeadlineHybrid, scoreHeadlineModel, scoreNewsHeadline } from '../../src/news/sentiment-model.js';
import { MODEL } from '../../src/news/sentiment-model.weights.js';
import { foldOf, macroF1, readCsv, scoreClass, train, TRAIN_DEFAULTS } from '../../../scripts/train-sentiment.js';
import { evaluate, loadLabelled } from './sentiment-eval.js';

const data = readCsv();
const lex = data.map((d) => scoreHeadline(d.text).score);
const xs = data.map((d, i) => features(d.text, lex[i], MODEL_INFO.features));
const ys = data.map((d) => d.y);

test('the committed weights are what scripts/train-sentiment.ts makes from the committed training rows', () => {
  assert.equal(MODEL_INFO.trainedOn, data.length, 'weights were trained on every row of the training files');
  assert.ok(data.length > 11_000, `${data.length} rows`); // the whole transcribed set (SOURCES.md §15)
  const w = Float32Array.from(train(xs, ys, { ...TRAIN_DEFAULTS, l2: MODEL_INFO.l2 }));
  assert.equal(Buffer.from(w.buffer).toString('base64'), MODEL.weights, 'retraining reproduces the committed weights byte for byte');
  assert.ok(features('Bitcoin surges 10% after ETF approval', 0.5, MODEL_INFO.features).idx.every((i) => i >= 0 && i < DIM));
  // the generated file stays well under the 5 MB budget (docs/SENTIMENT.md)
  const size = readFileSync(new URL('../../src/news/sentiment-model.weights.ts', import.meta.url)).length;
  assert.ok(size < 5 * 1024 * 1024, `${size} bytes`);
});

test('a fold the model was not trained on: it beats the lexicon there (the CV the script chose it by, one fold)', () => {
  const fit = data.map((_, i) => i).filter((i) => foldOf(data[i]!.text) !== 0);
  const held = data.map((_, i) => i).filter((i) => foldOf(data[i]!.text) === 0);
  const w = train(fit.map((i) => xs[i]!), fit.map((i) => ys[i]!), { ...TRAIN_DEFAULTS, l2: MODEL_INFO.l2 });
  const model = macroF1(held.map((i) => ys[i]!), held.map((i) => scoreClass(toScore(probabilities(w, xs[i]!), MODEL_INFO.neutralMargin))));
  const lexicon = macroF1(held.map((i) => ys[i]!), held.map((i) => scoreClass(lex[i]!)));
  console.log(`fold 0 n=${held.length}: lexicon macroF1=${lexicon.toFixed(3)} model macroF1=${model.toFixed(3)}`);
  assert.ok(held.length > 400, `${held.length}`);
  assert.ok(model >= 0.7, `model ${model}`);
  assert.ok(model >= lexicon + 0.08, `model ${model} vs lexicon ${lexicon}`);
  // rows of that fold with a strong market verb: the model agrees with the annotators for most, and where it calls a
  // direction it rarely calls the opposite one (the misses are mostly "neutral": most rows are neutral and the
  // CV-chosen margin leans that way; a few are annotations such as "demand surge for paycheck protection loans" = bearish)
  const strong = held.filter((i) => /\b(downgraded|plunges?|tumbles?|upgraded|soars?|surges?)\b/i.test(data[i]!.text) && ys[i] !== 1);
  const predicted = strong.map((i) => scoreClass(toScore(probabilities(w, xs[i]!), MODEL_INFO.neutralMargin)));
  const agree = strong.filter((i, k) => predicted[k] === ys[i]).length;
  const flipped = strong.filter((i, k) => predicted[k] !== 1 && predicted[k] !== ys[i]).length;
  assert.ok(strong.length >= 40 && agree / strong.length >= 0.7, `${agree}/${strong.length}`);
  assert.ok(flipped / (agree + flipped) <= 0.15, `${flipped} opposite of ${agree + flipped} polar`);
  // the figures stored with the weights are the script's CV: the model above the lexicon there too
  assert.ok(MODEL_INFO.cv.model >= MODEL_INFO.cv.lexicon + 0.1, JSON.stringify(MODEL_INFO.cv));
});

test('the feeder scores by the documented rule: a trained scorer only if it beats the lexicon in CV and on the own feed headlines', () => {
  const own = loadLabelled();
  const lexicon = evaluate(own, scoreHeadline);
  const hybrid = evaluate(own, scoreHeadlineHybrid);
  const model = evaluate(own, scoreHeadlineModel);
  const combined = evaluate(own, scoreHeadlineCombined);
  console.log(
    `own headlines n=${own.length}: lexicon ${lexicon.macroF1.toFixed(3)} model ${model.macroF1.toFixed(3)} hybrid ${hybrid.macroF1.toFixed(3)} ` +
      `CV-chosen rule (${MODEL_INFO.rule.kind}) ${combined.macroF1.toFixed(3)}; CV ${JSON.stringify(MODEL_INFO.cv)}`,
  );
  // the rule chosen by CV is at least as good there as the lexicon-first hybrid (it is one of the candidates)
  assert.ok(MODEL_INFO.cv.rule >= MODEL_INFO.cv.hybrid, JSON.stringify(MODEL_INFO.cv));
  // docs/SENTIMENT.md "Which scorer the feeder uses": the CV-chosen combination only if it also beats the current
  // lexicon-first hybrid in CV and the lexicon on the own headlines; otherwise the lexicon-first hybrid
  const wired = MODEL_INFO.cv.rule > MODEL_INFO.cv.hybrid && MODEL_INFO.cv.rule > MODEL_INFO.cv.lexicon && combined.macroF1 > lexicon.macroF1;
  assert.equal(scoreNewsHeadline, wired ? scoreHeadlineCombined : scoreHeadlineHybrid);
  assert.ok(evaluate(own, scoreNewsHeadline).macroF1 > lexicon.macroF1, 'the feeder’s scorer beats the lexicon on the own headlines');
  // lexicon-first: where the lexicon found words the hybrid keeps its score; where it found none the model decides
  const t = 'Bitcoin plunges 12% after exchange hack';
  assert.equal(scoreHeadlineHybrid(t).score, scoreHeadline(t).score);
  const quiet = 'Nvidia target raised to $900 at Citi'; // no lexicon word; analyst-action register of the training tweets
  assert.equal(scoreHeadline(quiet).score, 0);
  assert.equal(scoreHeadlineHybrid(quiet).score, scoreHeadlineModel(quiet).score);
  assert.equal(label(scoreHeadlineHybrid(quiet).score), 'positive');
});

test('scores are deterministic, in [-1, 1], and the empty headline is neutral', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      for (const fn of [scoreHeadlineModel, scoreHeadlineHybrid, scoreHeadlineCombined]) {
        const a = fn(s).score;
        assert.ok(a >= -1 && a <= 1 && Number.isFinite(a));
        assert.equal(fn(s).score, a);
      }
    }),
    { numRuns: 300 },
  );
  assert.equal(scoreHeadlineModel('').score, 0);
});

test('tokens: URLs dropped, signed percentages kept as direction, cashtags and numbers folded', () => {
  assert.deepEqual(tokens('$ZS - Zscaler +4% on beat https://t.co/abc'), ['cashtag', 'zscaler', 'pctup', 'on', 'beat']);
  assert.deepEqual(tokens('Kohl’s -11% after profit view slashed'), ["kohl's", 'pctdown', 'after', 'profit', 'view', 'slashed']);
  assert.deepEqual(tokens('EPS of $1.41 vs 1,200'), ['eps', 'of', 'num', 'vs', 'num']);
});
