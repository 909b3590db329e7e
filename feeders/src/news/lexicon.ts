// Finance/crypto additions to AFINN-165 (same −5…+5 scale). Headlines use market verbs ("plunges",
// "rallies", "exploit") that AFINN scores 0 or, worse, generically ("shares" +1, "interest" +1, "top" +2).

/** Single words: added, or overriding AFINN where the finance sense differs. */
export const FINANCE_WORDS: Record<string, number> = {
  // up moves
  bullish: 3, rally: 2, rallies: 2, rallied: 2, rallying: 2, surge: 2, surges: 2, surged: 2, surging: 2, upsurge: 2,
  soar: 3, soars: 3, soared: 3, soaring: 3, jump: 2, jumps: 2, jumped: 2, pops: 2, climb: 1, climbs: 1, climbed: 1,
  rebound: 2, rebounds: 2, rebounded: 2, recovery: 2, recovers: 2, gains: 2, gained: 2, breakout: 2, skyrockets: 3,
  skyrocketed: 3, outperforms: 2, outperformed: 2, upgrade: 2, upgraded: 2, upgrades: 2, inflows: 2, milestone: 2,
  momentum: 1, doubles: 2, tops: 1, beat: 2, beats: 2, raises: 1, adoption: 1, approves: 3, approved: 2, ath: 2,
  // down moves
  bearish: -3, plunge: -3, plunges: -3, plunged: -3, plunging: -3, plummet: -3, plummets: -3, plummeted: -3,
  tumble: -3, tumbles: -3, tumbled: -3, tumbling: -3, crash: -3, crashes: -3, crashed: -3, slump: -3, slumps: -3,
  slumped: -3, sink: -2, sinks: -2, sank: -2, fall: -2, falls: -2, fell: -2, falling: -2, drop: -2, drops: -2,
  dropped: -2, dips: -1, slides: -2, slid: -2, declines: -2, declined: -2, selloff: -2, outflows: -2, downgrade: -2,
  downgraded: -2, liquidated: -2, liquidations: -2, depeg: -3, depegged: -3, collapse: -3, collapses: -3,
  collapsed: -3, wipeout: -3, turmoil: -2, fears: -2, inflation: -1,
  // security incidents
  hack: -3, hacks: -3, hacked: -3, hacker: -2, hackers: -2, hacking: -2, exploit: -3, exploits: -3, exploited: -3,
  breach: -3, theft: -3, drained: -3, stolen: -3, phishing: -2, rugpull: -4,
  // legal / regulatory
  lawsuit: -2, lawsuits: -2, sues: -2, sued: -2, probe: -2, investigation: -1, indicted: -3, indictment: -3,
  arrested: -3, defrauding: -4, defrauded: -4, fined: -2, penalty: -2, crackdown: -2, delisted: -2, delisting: -2,
  bans: -2, banned: -2, unregistered: -2, manipulation: -2, stringent: -1, defers: -1, delays: -1, delayed: -1,
  bankruptcy: -3, bankrupt: -3, insolvent: -3, insolvency: -3, halts: -2, halted: -2, suspends: -2, suspended: -2,
  freezes: -2, frozen: -2, layoffs: -2,
  // AFINN senses that do not apply in market headlines
  shares: 0, share: 0, interest: 0, trust: 0, crude: 0, like: 0, top: 0, united: 0, justice: 0, lowest: 0,
};

/**
 * Multi-word expressions, matched on the lower-cased headline before tokenising and replaced by one token.
 * Scores are for the whole phrase (its words are not scored again).
 */
export const FINANCE_PHRASES: [RegExp, number][] = [
  [/\b(all[- ]time|record|fresh|new) highs?\b/g, 3],
  [/\betfs? approvals?\b|\bapproves? (?:\w+ ){0,2}etfs?\b|\betfs? (?:get|gets|win|wins) (?:\w+ ){0,2}(?:approval|blessing|green light)\b/g, 3],
  [/\bgreen light\b/g, 2],
  [/\b(beats?|beat|tops?|topped) (?:\w+ ){0,1}(expectations|estimates|forecasts)\b|\b(better|stronger)[- ]than[- ]expected\b/g, 3],
  [/\b(miss(es|ed)?) (?:\w+ ){0,1}(expectations|estimates|forecasts)\b|\b(worse|weaker)[- ]than[- ]expected\b/g, -3],
  [/\brecord (weekly |daily |monthly )?inflows\b/g, 3],
  [/\b(price|prices|shares?|stocks?) (is |are )?up\b|\bup \d/g, 2],
  [/\b(price|prices|shares?|stocks?) (is |are )?down\b|\bdown \d/g, -2],
  [/\bopens? up to\b/g, 1],
  [/\brate cuts?\b/g, 1],
  [/\brate hikes?\b/g, -1],
  [/\bsec (charges|sues|sued|charged)\b|\bcharged with\b/g, -3],
  [/\b(files?|filed|filing) for (chapter 11 )?bankruptcy\b|\bchapter 11\b/g, -3],
  [/\bfree[- ]fall\b/g, -3],
  [/\b(wipes?|wiped|wiping) out\b/g, -3],
  [/\bsell[- ]off\b/g, -2],
  [/\binsider (trading|knowledge)\b/g, -2],
  [/\b(price|market) manipulation\b/g, -2],
  [/\b(lost|loses|lose) (its|their) peg\b/g, -3],
  [/\bsecurity breach\b/g, -3],
  [/\b(halts?|halted|suspends?|suspended|freezes|froze|frozen|paused?) (customer |all |user )?withdrawals\b/g, -3],
  [/\b(all[- ]time|record) lows?\b/g, -3],
  [/\bdeath cross\b/g, -2],
  [/\bgolden cross\b/g, 2],
];

/** Words that flip the score of a sentiment word up to NEGATION_WINDOW tokens later ("has not (yet) approved"). */
export const NEGATORS = new Set([
  'not', 'no', 'never', 'neither', 'nor', 'without', 'cannot', 'cant', "can't", 'dont', "don't", 'doesnt', "doesn't",
  'isnt', "isn't", 'wont', "won't", 'hasnt', "hasn't", 'havent', "haven't", 'didnt', "didn't", 'wasnt', "wasn't",
  'arent', "aren't", 'fails', 'failed', 'denies', 'denied', 'rejects', 'rejected', 'lack', 'lacks',
]);
export const NEGATION_WINDOW = 3;

/** Concessive markers: the clause after them argues against the headline's direction ("falls despite approval"). */
export const CONCESSIVES = new Set(['despite', 'notwithstanding']);
export const CONCESSIVE_WINDOW = 4;
