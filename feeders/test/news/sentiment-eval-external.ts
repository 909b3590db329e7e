// Measures the headline scorer on an independent labelled set given by path — for evaluation only, never
// to write, fit or tune anything (docs/SENTIMENT.md "Independent evaluation"):
//
//   npx tsx --conditions=source feeders/test/news/sentiment-eval-external.ts <headlines.tsv>
//
// (the held-out set is kept outside the repository; docs/SENTIMENT.md names it and its sources)
//
// Format: a header line `label<TAB>text<TAB>source`, then one row per headline, `label` ∈ positive/negative/
// neutral, `source` = `<dataset>:<row id>` (the part is the dataset). No quoting: split on tabs.
// Prints overall and per-part accuracy / macro-F1 for plain AFINN-165, the lexicon, the trained model and the
// lexicon-first hybrid (docs/SENTIMENT.md "Trained model"); headlines the language
// detector reads as not English get no score from the feeder, so they count as "neutral" predictions here.
import { readFileSync } from 'node:fs';
import { detectLanguage, SCORED_LANGUAGES } from '../../src/news/lang.js';
import { scoreHeadline, scorePlainAfinn, type Label, type SentimentResult } from '../../src/news/sentiment.js';
import { scoreHeadlineHybrid, scoreHeadlineModel } from '../../src/news/sentiment-model.js';
import { evaluate, type Labelled } from './sentiment-eval.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: sentiment-eval-external.ts <labelled.tsv>\n');
  process.exit(2);
}
const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
if (lines[0] !== 'label\ttext\tsource') throw new Error(`unexpected header: ${lines[0]}`);
const data: Labelled[] = lines.slice(1).map((l, i) => {
  const [label, headline, source] = l.split('\t');
  if (!['positive', 'negative', 'neutral'].includes(label!) || !headline || !source) throw new Error(`bad row ${i + 2}`);
  return { label: label as Label, headline, source };
});

// the feeder's path: not English → no score (neutral here); the lexicon alone, the trained model alone, and the
// hybrid the feeder scores with (sentiment-model.ts scoreNewsHeadline)
const english = (scorer: (t: string) => SentimentResult) => (t: string): SentimentResult =>
  SCORED_LANGUAGES.has(detectLanguage(t)) ? scorer(t) : { score: 0, raw: 0, words: [] };
const lexicon = english(scoreHeadline);
const model = english(scoreHeadlineModel);
const hybrid = english(scoreHeadlineHybrid);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const f = (x: number) => x.toFixed(3);
const parts = [...new Set(data.map((d) => d.source.split(':')[0]!))];
const notEnglish = data.filter((d) => !SCORED_LANGUAGES.has(detectLanguage(d.headline))).length;
console.log(`${data.length} labelled headlines from ${file}; ${notEnglish} read as not English (unscored)\n`);
console.log('| part | n | accuracy AFINN / lexicon / model / hybrid | macro-F1 AFINN / lexicon / model / hybrid |');
console.log('|---|---|---|---|');
for (const [name, sub] of [['all', data], ...parts.map((p) => [p, data.filter((d) => d.source.startsWith(`${p}:`))] as const)] as [string, Labelled[]][]) {
  const a = evaluate(sub, scorePlainAfinn);
  const x = evaluate(sub, lexicon);
  const m = evaluate(sub, model);
  const h = evaluate(sub, hybrid);
  console.log(`| ${name} | ${sub.length} | ${[a, x, m, h].map((e) => pct(e.accuracy)).join(' / ')} | ${[a, x, m, h].map((e) => f(e.macroF1)).join(' / ')} |`);
}
