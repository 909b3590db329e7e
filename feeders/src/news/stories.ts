// One story once (docs/SENTIMENT.md "Stories"): articles from several outlets about the same event — the
// same headline syndicated, near-identical rewrites — are grouped into one story that lists its sources,
// and each story gets a rank (recency, outlets, relevance to the watch set, strength of sentiment).

/** How long after a story's first article another article can still join it. */
export const STORY_WINDOW_MS = 48 * 3600_000;
/** Two headlines whose content words overlap this much (Jaccard) are the same story. */
export const SAME_STORY_JACCARD = 0.6;
/** ... and share at least this many content words (short headlines overlap by chance). */
const MIN_SHARED_WORDS = 3;

// Words that carry no story identity. Numbers, names and verbs stay: "Bitcoin tops $100K" ≠ "Bitcoin tops $90K".
const STOP = new Set(
  ('a an the and or but of to in on at for from by with as is are was were be been its it this that these those ' +
    'after amid over into up down out than more says said report reports new how why what who will could would can may ' +
    'just now here all about after before he she they we you his her their our your via update live breaking exclusive video watch')
    .split(' '),
);

/** Publisher decorations syndicated copies add or drop: "(Reuters) -", "| Reuters", "- CoinDesk", "UPDATE 2-". */
function stripDecorations(title: string): string {
  return title
    .replace(/^\s*(?:update\s*\d*|exclusive|breaking|analysis|watch|video)\s*[-:–—]\s*/i, '')
    .replace(/^\s*\([^)]{2,40}\)\s*[-–—]\s*/, '')
    // "… | Reuters", "… - CoinDesk": a capitalised name of a few words, not "… – in pictures"
    .replace(/\s+[|–—-]\s+\p{Lu}[\p{L}\p{N}.&' ]{1,30}$/u, (m) => (m.trim().split(/\s+/).length <= 5 ? '' : m));
}

/** Lower-case content words of a headline, crudely stemmed (plural `s` dropped). */
export function storyWords(title: string): Set<string> {
  const words = stripDecorations(title)
    .toLowerCase()
    .replace(/[\u2018\u2019']/g, '')
    .split(/[^\p{L}\p{N}$%.]+/u)
    .map((w) => w.replace(/^[.]+|[.]+$/g, ''))
    .filter((w) => w && !STOP.has(w))
    .map((w) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
  return new Set(words);
}

/** The exact-copy key: the headline without decorations, case, punctuation and spacing. */
export function storyKey(title: string): string {
  return stripDecorations(title).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** The publisher an article comes from: the host of its URL without `www.` (NewsAPI/CryptoPanic relay many). */
export function publisherOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase().replace(/^www\d?\./, '');
  } catch {
    return 'unknown';
  }
}

export interface Story {
  /** The id of its first article. */
  id: string;
  title: string;
  url: string;
  category: string;
  lang: string;
  /** Point time of its first article (the story's points are rewritten in place as it grows). */
  time: number;
  articles: number;
  /** `source` tags of its articles (`rss:www.coindesk.com`, `cryptopanic`, …). */
  sources: Set<string>;
  /** Publishers (URL hosts): the number of outlets. */
  publishers: Set<string>;
  assets: Set<string>;
  /** Sum and count of the scored (readable) articles' sentiment. */
  sentimentSum: number;
  sentimentN: number;
  words: Set<string>;
  key: string;
}

export const storySentiment = (s: Story): number | undefined => (s.sentimentN ? s.sentimentSum / s.sentimentN : undefined);

// ---- rank ----

/** A story this much older needs twice the importance to rank level with a newer one. */
export const RANK_HALF_LIFE_MS = 6 * 3600_000;
const RANK_EPOCH = Date.UTC(2000, 0, 1);

/**
 * `rank = log2(importance) + age offset`: importance × 2^(-age / half-life), in log form with the age
 * counted from a fixed epoch instead of from "now". Sorting by it is the same as sorting by the decayed
 * importance at any moment (now shifts every story alike), so a stored rank never goes stale.
 * importance = outlets × (1 + relevance) × (1 + |sentiment|), relevance 2 when the story names an asset of
 * the watch set, 1 for another known asset, 0 for none.
 */
export function storyRank(s: Pick<Story, 'time' | 'publishers' | 'assets'> & { sentiment?: number }, watched: (asset: string) => boolean): number {
  const assets = [...s.assets].filter((a) => a !== 'none');
  const relevance = assets.some(watched) ? 2 : assets.length ? 1 : 0;
  const importance = Math.max(1, s.publishers.size) * (1 + relevance) * (1 + Math.abs(s.sentiment ?? 0));
  return Math.log2(importance) + (s.time - RANK_EPOCH) / RANK_HALF_LIFE_MS;
}

// ---- the book of recent stories ----

export interface ArticleForStory {
  id: string;
  title: string;
  url: string;
  source: string;
  category: string;
  lang: string;
  time: number;
  assets: string[];
  sentiment?: number;
}

/** Recent stories with an index by content word, to find the story a new article belongs to. */
export class StoryBook {
  private stories = new Map<string, Story>();
  private byKey = new Map<string, string>();
  private byWord = new Map<string, Set<string>>();
  private dirty = new Map<string, Story>();

  constructor(private readonly windowMs = STORY_WINDOW_MS) {}

  get size(): number {
    return this.stories.size;
  }
  get(id: string): Story | undefined {
    return this.stories.get(id);
  }

  /** The story an article belongs to: the same headline (decorations aside) or a near-identical one. */
  find(title: string, time: number): Story | undefined {
    const near = (s: Story) => Math.abs(time - s.time) <= this.windowMs;
    const exact = this.byKey.get(storyKey(title));
    const e = exact ? this.stories.get(exact) : undefined;
    if (e && near(e)) return e;
    const words = storyWords(title);
    // shared-word counts from the postings: no pairwise comparison with every recent story
    const shared = new Map<string, number>();
    for (const w of words) for (const id of this.byWord.get(w) ?? []) shared.set(id, (shared.get(id) ?? 0) + 1);
    let best: Story | undefined;
    let bestJ = 0;
    for (const [id, n] of shared) {
      if (n < MIN_SHARED_WORDS) continue;
      const s = this.stories.get(id)!;
      const j = n / (words.size + s.words.size - n);
      if (j >= SAME_STORY_JACCARD && j > bestJ && near(s)) [best, bestJ] = [s, j];
    }
    return best;
  }

  /** Add an article: to its story if it has one, else as a new story. Returns the story. */
  add(a: ArticleForStory): Story {
    const s = this.find(a.title, a.time);
    if (s) {
      s.articles++;
      this.join(s, a);
      return s;
    }
    const story: Story = {
      id: a.id,
      title: a.title,
      url: a.url,
      category: a.category,
      lang: a.lang,
      time: a.time,
      articles: 1,
      sources: new Set(),
      publishers: new Set(),
      assets: new Set(),
      sentimentSum: 0,
      sentimentN: 0,
      words: storyWords(a.title),
      key: storyKey(a.title),
    };
    this.join(story, a);
    this.index(story);
    return story;
  }

  /** The same article (same canonical URL) delivered by another source: its story gains that source. */
  addSource(storyId: string, source: string): Story | undefined {
    const s = this.stories.get(storyId);
    if (!s || s.sources.has(source)) return undefined;
    s.sources.add(source);
    return s;
  }

  /** A story whose points must be (re)written. */
  markDirty(s: Story): void {
    this.dirty.set(s.id, s);
  }

  /** The stories changed since the last call. */
  takeDirty(): Story[] {
    const out = [...this.dirty.values()];
    this.dirty.clear();
    return out;
  }

  /** A story read back from storage at start-up. */
  restore(s: Story): void {
    if (!this.stories.has(s.id)) this.index(s);
  }

  /** Forget stories whose first article is older than the window (nothing can join them any more). */
  prune(now = Date.now()): void {
    for (const s of this.stories.values()) {
      if (s.time >= now - this.windowMs) continue;
      this.stories.delete(s.id);
      if (this.byKey.get(s.key) === s.id) this.byKey.delete(s.key);
      for (const w of s.words) {
        const ids = this.byWord.get(w);
        ids?.delete(s.id);
        if (ids?.size === 0) this.byWord.delete(w);
      }
    }
  }

  private join(s: Story, a: ArticleForStory): void {
    s.sources.add(a.source);
    s.publishers.add(publisherOf(a.url));
    for (const x of a.assets) s.assets.add(x);
    if (a.sentiment !== undefined) {
      s.sentimentSum += a.sentiment;
      s.sentimentN++;
    }
  }

  private index(s: Story): void {
    this.stories.set(s.id, s);
    if (!this.byKey.has(s.key)) this.byKey.set(s.key, s.id);
    for (const w of s.words) {
      let ids = this.byWord.get(w);
      if (!ids) this.byWord.set(w, (ids = new Set()));
      ids.add(s.id);
    }
  }
}
