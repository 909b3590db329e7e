// One article = one canonical URL = one id, whichever source or poll delivered it.
import { createHash } from 'node:crypto';

// Tracking parameters that differ between shares of the same article (utm_* handled by prefix).
const TRACKING_PARAMS = new Set([
  'fbclid', 'gclid', 'dclid', 'msclkid', 'yclid', 'mc_cid', 'mc_eid', 'igshid', 'ref', 'ref_src', 'ref_url',
  'cmpid', 'cmp', 'ito', 'ncid', 'sr_share', 'soc_src', 'soc_trk', 'smid', 'ocid', 'guccounter', 'guce_referrer',
  'guce_referrer_sig', '_hsenc', '_hsmi', 'spm', 'taid', 'tpcc', 'at_medium', 'at_campaign', 'rss', 'feed',
]);

function isTracking(name: string): boolean {
  const n = name.toLowerCase();
  // wt_* = Webtrekk (heise: `?wt_mc=rss.developer.beitrag.atom`), at_* = AT Internet, utm_* = Google
  return n.startsWith('utm_') || n.startsWith('wt_') || n.startsWith('at_') || TRACKING_PARAMS.has(n);
}

/**
 * Canonical form: absolute http(s) URL (relative links resolved against `base`), scheme and host
 * lower-cased, default port and fragment dropped, tracking parameters removed, remaining parameters
 * sorted. Path case is kept (paths are case-sensitive on most servers). Returns undefined when the
 * input is not an http(s) URL.
 */
export function canonicalUrl(raw: string, base?: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw.trim(), base);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  u.hash = '';
  u.hostname = u.hostname.toLowerCase().replace(/\.$/, '');
  const kept = [...u.searchParams.entries()].filter(([k]) => !isTracking(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  u.search = new URLSearchParams(kept).toString();
  return u.toString();
}

/** Stable id of an article: first 16 hex chars of SHA-256 over the canonical URL. */
export function articleId(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
