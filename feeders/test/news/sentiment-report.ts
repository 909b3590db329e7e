// Prints the evaluation table for docs/SENTIMENT.md:  npx tsx feeders/test/news/sentiment-report.ts
import { scoreHeadline, scorePlainAfinn } from '../../src/news/sentiment.js';
import { evaluate, loadLabelled, type Evaluation } from './sentiment-eval.js';

const data = loadLabelled();
const rows: [string, Evaluation][] = [
  ['plain AFINN-165 (`sentiment`)', evaluate(data, scorePlainAfinn)],
  ['ours (AFINN + finance lexicon, phrases, negation)', evaluate(data, scoreHeadline)],
];
const pct = (x: number) => (x * 100).toFixed(1) + ' %';
const f = (x: number) => x.toFixed(3);
const counts = ['positive', 'negative', 'neutral'].map((l) => `${data.filter((d) => d.label === l).length} ${l}`).join(', ');
console.log(`${data.length} labelled headlines (${counts})\n`);
console.log('| scorer | accuracy | macro-F1 | F1 positive | F1 negative | F1 neutral |');
console.log('|---|---|---|---|---|---|');
for (const [name, e] of rows) {
  console.log(`| ${name} | ${pct(e.accuracy)} | ${f(e.macroF1)} | ${f(e.perClass.positive.f1)} | ${f(e.perClass.negative.f1)} | ${f(e.perClass.neutral.f1)} |`);
}
const subsets: [string, typeof data][] = [
  ['fixture feeds/payloads (CryptoPanic, NewsAPI, Guardian RSS)', data.filter((d) => d.source.startsWith('testing/fixtures/'))],
  ['headlines found with the search tool (finance/crypto news sites)', data.filter((d) => !d.source.startsWith('testing/fixtures/'))],
];
console.log('\n| subset | n | accuracy plain → ours | macro-F1 plain → ours |');
console.log('|---|---|---|---|');
for (const [name, sub] of subsets) {
  const p = evaluate(sub, scorePlainAfinn);
  const o = evaluate(sub, scoreHeadline);
  console.log(`| ${name} | ${sub.length} | ${pct(p.accuracy)} → ${pct(o.accuracy)} | ${f(p.macroF1)} → ${f(o.macroF1)} |`);
}
if (process.argv.includes('--errors')) {
  for (const [name, e] of rows) {
    console.log(`\n${name}: ${e.errors.length} errors`);
    for (const x of e.errors) console.log(`  expected ${x.expected}, got ${x.got}: ${x.headline}`);
  }
}
