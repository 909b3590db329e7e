// Which language a headline is in, so that the English scorer is not asked to read German (docs/SENTIMENT.md
// "Languages"). Headlines are too short for n-gram models; function words and the script decide.

/** Function words that are (nearly) never English words, per language (ISO 639-1). */
const STOPWORDS: Record<string, string[]> = {
  en: ['the', 'and', 'of', 'to', 'in', 'is', 'for', 'on', 'with', 'as', 'at', 'by', 'from', 'its', 'after', 'over', 'new', 'how', 'why', 'what', 'will', 'says', 'are', 'be', 'has', 'have', 'this', 'that', 'amid', 'into', 'up', 'down', 'out', 'than', 'more', 'could', 'would', 'a', 'an', 'it', 'his', 'her', 'their', 'not', 'but', 'first', 'report', 'set', 'back'],
  de: ['der', 'die', 'das', 'und', 'ist', 'mit', 'für', 'auf', 'den', 'dem', 'des', 'ein', 'eine', 'einen', 'nicht', 'auch', 'sich', 'wie', 'nach', 'bei', 'zum', 'zur', 'von', 'aus', 'über', 'wird', 'werden', 'noch', 'vor', 'neue', 'mehr', 'gegen', 'warum', 'jetzt', 'beim', 'im', 'am'],
  fr: ['le', 'la', 'les', 'des', 'et', 'est', 'du', 'une', 'un', 'pour', 'dans', 'sur', 'avec', 'qui', 'que', 'pas', 'par', 'au', 'aux', 'ce', 'cette', 'sont', 'plus', 'selon', 'après', 'être', 'fait', 'leur', 'nouvelle', "l'", "d'"],
  es: ['el', 'los', 'las', 'del', 'y', 'es', 'por', 'para', 'con', 'una', 'que', 'se', 'su', 'sus', 'al', 'como', 'más', 'pero', 'tras', 'según', 'sobre', 'ha', 'nuevo', 'nueva', 'hasta'],
  it: ['il', 'lo', 'gli', 'della', 'delle', 'dei', 'e', 'è', 'per', 'con', 'che', 'non', 'una', 'nel', 'nella', 'sul', 'sulla', 'alla', 'più', 'dopo', 'anche', 'sono'],
  pt: ['o', 'os', 'da', 'das', 'do', 'dos', 'e', 'é', 'para', 'com', 'uma', 'não', 'em', 'no', 'na', 'nas', 'mais', 'após', 'sobre', 'pelo', 'pela', 'são'],
  nl: ['het', 'een', 'en', 'van', 'voor', 'met', 'op', 'niet', 'dat', 'zijn', 'naar', 'bij', 'ook', 'nog', 'wordt', 'maar', 'over', 'uit'],
};

const INDEX = new Map<string, string[]>();
for (const [lang, words] of Object.entries(STOPWORDS)) for (const w of words) INDEX.set(w, [...(INDEX.get(w) ?? []), lang]);

/** Scripts that decide the language (or at least that it is not English) on their own. */
const SCRIPTS: [RegExp, string][] = [
  [/[\u3040-\u30ff]/, 'ja'],
  [/[\uac00-\ud7af]/, 'ko'],
  [/[\u4e00-\u9fff]/, 'zh'],
  [/[\u0400-\u04ff]/, 'ru'],
  [/[\u0600-\u06ff]/, 'ar'],
  [/[\u0590-\u05ff]/, 'he'],
  [/[\u0900-\u097f]/, 'hi'],
  [/[\u0e00-\u0e7f]/, 'th'],
  [/[\u0370-\u03ff]/, 'el'],
];

const ANY_SCRIPT = new RegExp(SCRIPTS.map(([re]) => re.source).join('|'));

/** Letters English never writes (outside loan words): evidence for a language when function words are silent. */
const LETTERS: [RegExp, string][] = [
  [/[äöüß]/i, 'de'],
  [/[ñ¿¡]/i, 'es'],
  [/[ãõ]/i, 'pt'],
  [/[àâçèêëîïôœùû]/i, 'fr'],
];

/**
 * ISO 639-1 code of `text`, or `en` when nothing points elsewhere (tickers, names and numbers carry no
 * language; the feeds this terminal reads are English unless they show otherwise).
 */
export function detectLanguage(text: string): string {
  // a script covering a real share of the letters decides (one CJK brand name in an English headline does not)
  // (only text with a letter of one of those scripts pays for the per-script count)
  if (ANY_SCRIPT.test(text)) {
    const letters = [...text.replace(/[^\p{L}]/gu, '')];
    for (const [re, lang] of SCRIPTS) {
      const n = letters.filter((c) => re.test(c)).length;
      if (n > 0 && n >= letters.length * 0.3) return lang;
    }
  }
  const votes = new Map<string, number>();
  for (const w of text.toLowerCase().split(/[^\p{L}']+/u)) {
    if (!w) continue;
    for (const lang of INDEX.get(w) ?? []) votes.set(lang, (votes.get(lang) ?? 0) + 1);
  }
  for (const [re, lang] of LETTERS) if (re.test(text)) votes.set(lang, (votes.get(lang) ?? 0) + 1.5);
  // another language needs two pieces of evidence and more than English has: one "de" or "la" in a name
  // ("Banco de la Nación") must not silence the scorer
  let best = 'en';
  let bestVotes = Math.max(votes.get('en') ?? 0, 1.5);
  for (const [lang, n] of votes) if (n > bestVotes) [best, bestVotes] = [lang, n];
  return best;
}

/** Languages the sentiment scorer reads (sentiment.ts is an English lexicon). */
export const SCORED_LANGUAGES = new Set(['en']);
