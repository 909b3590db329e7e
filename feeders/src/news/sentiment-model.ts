// Headline sentiment by a small trained model: multinomial logistic regression over hashed word and
// word-bigram features plus the lexicon's own score (sentiment.ts) as three extra features. Trained by
// scripts/train-sentiment.ts on labelled finance tweets (docs/SENTIMENT.md "Trained model");
// the weights ship in sentiment-model.weights.ts, nothing is downloaded at run time.
import { scoreHeadline, type SentimentResult } from './sentiment.js';
import { combine, DIM, features, probabilities, toScore, type FeatureOptions, type HybridRule } from './sentiment-features.js';
import { MODEL } from './sentiment-model.weights.js';

const WEIGHTS = (() => {
  const buf = Buffer.from(MODEL.weights, 'base64');
  const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (w.length !== 3 * DIM || MODEL.dim !== DIM) throw new Error(`sentiment model: ${w.length} weights for dim ${MODEL.dim}, expected ${3 * DIM}`);
  return w;
})();
const FEATURES: FeatureOptions = MODEL.features;

/** The trained model's score of a headline; `words` are the lexicon's matched words (for explanation). */
export function scoreHeadlineModel(text: string): SentimentResult {
  const lex = scoreHeadline(text);
  const p = probabilities(WEIGHTS, features(text, lex.score, FEATURES));
  return { score: toScore(p, MODEL.neutralMargin), raw: lex.raw, words: lex.words };
}

const RULE = MODEL.rule as HybridRule;

export const MODEL_INFO = { trainedOn: MODEL.trainedOn, features: FEATURES, l2: MODEL.l2, neutralMargin: MODEL.neutralMargin, rule: RULE, cv: MODEL.cv };

/**
 * Lexicon first, model where the lexicon has no evidence: the lexicon's score when it found sentiment
 * words, otherwise the trained model's score (docs/SENTIMENT.md "Trained model").
 */
export function scoreHeadlineHybrid(text: string): SentimentResult {
  const lex = scoreHeadline(text);
  if (lex.score !== 0) return lex;
  const p = probabilities(WEIGHTS, features(text, lex.score, FEATURES));
  return { score: toScore(p, MODEL.neutralMargin), raw: lex.raw, words: lex.words };
}

/** Lexicon and model combined by the rule cross-validation chose (`MODEL.rule`, docs/SENTIMENT.md "Trained model"). */
export function scoreHeadlineCombined(text: string): SentimentResult {
  const lex = scoreHeadline(text);
  const p = probabilities(WEIGHTS, features(text, lex.score, FEATURES));
  return { score: combine(RULE, lex.score, toScore(p, MODEL.neutralMargin)), raw: lex.raw, words: lex.words };
}

/**
 * The feeder's headline scorer (pipeline.ts): the lexicon-first hybrid. Rule (docs/SENTIMENT.md "Which scorer the
 * feeder uses"): a trained scorer replaces it only if it beats it in cross-validation on the training rows and also
 * beats the lexicon on the project's own labelled feed headlines. The combination CV chose on the tweets
 * (`MODEL.rule`) wins the first test and loses the second, so the feeder keeps the hybrid over the retrained model;
 * sentiment-model.test.ts checks the rule.
 */
export const scoreNewsHeadline = scoreHeadlineHybrid;
