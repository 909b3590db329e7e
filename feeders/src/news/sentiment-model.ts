// Headline sentiment by a small trained model: multinomial logistic regression over hashed word and
// word-bigram features plus the lexicon's own score (sentiment.ts) as three extra features. Trained by
// scripts/train-sentiment.ts on labelled finance tweets (docs/SENTIMENT.md "Trained model");
// the weights ship in sentiment-model.weights.ts, nothing is downloaded at run time.
import { scoreHeadline, type SentimentResult } from './sentiment.js';
import { DIM, features, probabilities, toScore } from './sentiment-features.js';
import { MODEL } from './sentiment-model.weights.js';

const WEIGHTS = (() => {
  const buf = Buffer.from(MODEL.weights, 'base64');
  const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (w.length !== 3 * DIM || MODEL.dim !== DIM) throw new Error(`sentiment model: ${w.length} weights for dim ${MODEL.dim}, expected ${3 * DIM}`);
  return w;
})();

/** The trained model's score of a headline; `words` are the lexicon's matched words (for explanation). */
export function scoreHeadlineModel(text: string): SentimentResult {
  const lex = scoreHeadline(text);
  const p = probabilities(WEIGHTS, features(text, lex.score));
  return { score: toScore(p, MODEL.neutralMargin), raw: lex.raw, words: lex.words };
}

export const MODEL_INFO = { trainedOn: MODEL.trainedOn, heldOut: MODEL.heldOut, neutralMargin: MODEL.neutralMargin };

/**
 * Lexicon first, model where the lexicon has no evidence: the lexicon's score when it found sentiment
 * words, otherwise the trained model's score (docs/SENTIMENT.md "Trained model").
 */
export function scoreHeadlineHybrid(text: string): SentimentResult {
  const lex = scoreHeadline(text);
  if (lex.score !== 0) return lex;
  const p = probabilities(WEIGHTS, features(text, lex.score));
  return { score: toScore(p, MODEL.neutralMargin), raw: lex.raw, words: lex.words };
}
