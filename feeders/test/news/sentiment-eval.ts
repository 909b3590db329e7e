// Shared by sentiment.test.ts and sentiment-report.ts: accuracy and macro-F1 of a scorer on the labelled set.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { label, type Label, type SentimentResult } from '../../src/news/sentiment.js';

export interface Labelled {
  headline: string;
  label: Label;
  source: string;
}

export function loadLabelled(): Labelled[] {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'headlines.labelled.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { headlines: Labelled[] }).headlines;
}

const LABELS: Label[] = ['positive', 'negative', 'neutral'];

export interface Evaluation {
  n: number;
  accuracy: number;
  macroF1: number;
  perClass: Record<Label, { precision: number; recall: number; f1: number; support: number }>;
  errors: { headline: string; expected: Label; got: Label }[];
}

export function evaluate(data: Labelled[], scorer: (t: string) => SentimentResult): Evaluation {
  const predictions = data.map((d) => label(scorer(d.headline).score));
  let correct = 0;
  const errors: Evaluation['errors'] = [];
  data.forEach((d, i) => {
    if (predictions[i] === d.label) correct++;
    else errors.push({ headline: d.headline, expected: d.label, got: predictions[i]! });
  });
  const perClass = {} as Evaluation['perClass'];
  for (const c of LABELS) {
    const tp = data.filter((d, i) => d.label === c && predictions[i] === c).length;
    const fp = data.filter((d, i) => d.label !== c && predictions[i] === c).length;
    const fn = data.filter((d, i) => d.label === c && predictions[i] !== c).length;
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    perClass[c] = { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support: tp + fn };
  }
  const macroF1 = LABELS.reduce((s, c) => s + perClass[c].f1, 0) / LABELS.length;
  return { n: data.length, accuracy: correct / data.length, macroF1, perClass, errors };
}
