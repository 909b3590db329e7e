// Headline sentiment: AFINN-165 (the `sentiment` package) plus a finance/crypto lexicon, multi-word
// phrases and a wider negation window, normalised to [-1, 1]. Evaluation: docs/SENTIMENT.md.
import Sentiment from 'sentiment';
import { createRequire } from 'node:module';
import { CONCESSIVES, CONCESSIVE_WINDOW, FINANCE_PHRASES, FINANCE_WORDS, NEGATION_WINDOW, NEGATORS } from './lexicon.js';

const require = createRequire(import.meta.url);
const AFINN = require('sentiment/languages/en/labels.json') as Record<string, number>;

// VADER's normalisation x/√(x²+α): one strong word ≈ ±0.6, saturates smoothly towards ±1.
const ALPHA = 15;
export function normalise(score: number): number {
  return score === 0 ? 0 : score / Math.sqrt(score * score + ALPHA);
}

const PHRASE_TOKEN_SCORES: Record<string, number> = {};
const PHRASES = FINANCE_PHRASES.map(([re, score], i) => {
  // letters only: the sentiment tokenizer splits on digits-free punctuation but keeps [a-z]
  const token = `finphrase${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`;
  PHRASE_TOKEN_SCORES[token] = score;
  return { re, token };
});

// A separate language registration (not `extras`): `extras` is merged INTO the shared English labels by
// sentiment 5.x, which would silently change plain AFINN for every later caller in the process.
const LANGUAGE = 'en-finance';
const engine = new Sentiment();
engine.registerLanguage(LANGUAGE, {
  labels: { ...AFINN, ...FINANCE_WORDS, ...PHRASE_TOKEN_SCORES },
  scoringStrategy: {
    apply(tokens, cursor, score) {
      let s = score;
      for (let j = cursor - 1; j >= Math.max(0, cursor - NEGATION_WINDOW); j--) {
        if (NEGATORS.has(tokens[j]!)) {
          s = -s;
          break;
        }
      }
      for (let j = cursor - 1; j >= Math.max(0, cursor - CONCESSIVE_WINDOW); j--) {
        if (CONCESSIVES.has(tokens[j]!)) {
          s = -s / 2;
          break;
        }
      }
      return s;
    },
  },
});

export interface SentimentResult {
  /** In [-1, 1]. */
  score: number;
  /** Raw lexicon sum. */
  raw: number;
  words: string[];
}

function prepare(text: string): string {
  let s = ` ${text.toLowerCase().replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"')} `;
  for (const { re, token } of PHRASES) s = s.replace(re, ` ${token} `);
  return s;
}

/** Our scorer (AFINN + finance lexicon + phrases + negation/concession). */
export function scoreHeadline(text: string): SentimentResult {
  const r = engine.analyze(prepare(text), { language: LANGUAGE });
  return { score: normalise(r.score), raw: r.score, words: r.words };
}

const plain = new Sentiment();
/** Plain AFINN-165 as shipped by `sentiment` (baseline for the evaluation), same normalisation. */
export function scorePlainAfinn(text: string): SentimentResult {
  const r = plain.analyze(text);
  return { score: normalise(r.score), raw: r.score, words: r.words };
}

export type Label = 'positive' | 'negative' | 'neutral';
/** Any non-zero lexicon evidence decides the label (normalised scores are ≥ 0.25 in magnitude). */
export function label(score: number): Label {
  return score > 0.05 ? 'positive' : score < -0.05 ? 'negative' : 'neutral';
}
