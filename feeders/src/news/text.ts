// Titles arrive as HTML fragments (CryptoPanic wraps percentages in <span>, feeds escape markup twice):
// reduce them to the plain text a dashboard shows.
import { decodeHTML } from 'entities';

/** Remove tags, decode HTML entities (twice-escaped `&amp;amp;` too), collapse whitespace. */
export function cleanText(raw: string | undefined | null): string {
  if (!raw) return '';
  let s = String(raw);
  // Entities first so `&lt;b&gt;` becomes a tag that is then stripped; a second round handles `&amp;quot;`.
  for (let i = 0; i < 2 && /&[#a-z0-9]+;/i.test(s); i++) s = decodeHTML(s);
  // only what is markup: `<b>`, `</a>`, `<br/>`; a literal "RSS <<< Title >>>" keeps its brackets
  s = s.replace(/<!\[CDATA\[|\]\]>/g, '').replace(/<\/?[a-z][a-z0-9-]*(?:\s[^<>]*)?\/?>/gi, ' ');
  s = decodeHTML(s);
  return s.replace(/[\s\u00a0]+/g, ' ').trim();
}
