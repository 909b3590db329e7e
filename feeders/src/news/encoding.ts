// Feeds in the wild: a charset in Content-Type, in the XML declaration, in a BOM, or nowhere, and
// sometimes the wrong one. Decide once, decode with iconv-lite, and hand rss-parser a JS string.
import iconv from 'iconv-lite';

const BOMS: [Buffer, string][] = [
  [Buffer.from([0xef, 0xbb, 0xbf]), 'utf-8'],
  [Buffer.from([0xff, 0xfe]), 'utf-16le'],
  [Buffer.from([0xfe, 0xff]), 'utf-16be'],
];

function normalise(label: string | undefined): string | undefined {
  if (!label) return undefined;
  const l = label.trim().toLowerCase().replace(/^["']|["']$/g, '');
  // WHATWG Encoding: browsers decode "iso-8859-1"/"latin1"/"us-ascii" as windows-1252 (a superset that
  // also maps the 0x80–0x9F smart quotes feeds produced on Windows actually contain).
  if (['iso-8859-1', 'iso8859-1', 'latin1', 'latin-1', 'l1', 'us-ascii', 'ascii', 'cp1252'].includes(l)) return 'windows-1252';
  return iconv.encodingExists(l) ? l : undefined;
}

const isUtf8 = (enc: string) => /^utf-?8$/.test(enc);

export function charsetFromContentType(ct: string | undefined): string | undefined {
  return /charset\s*=\s*("?)([^";\s]+)\1/i.exec(ct ?? '')?.[2];
}

export function charsetFromXmlDeclaration(head: Buffer): string | undefined {
  // The declaration is ASCII in every ASCII-compatible encoding.
  return /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head.subarray(0, 200).toString('latin1'))?.[1];
}

export interface Decoded {
  text: string;
  encoding: string;
  /** Where the encoding came from. */
  from: 'bom' | 'content-type' | 'xml-declaration' | 'default' | 'fallback';
}

/**
 * Precedence: BOM, then Content-Type charset, then XML declaration (RFC 7303 §3.2), then UTF-8. When the
 * chosen encoding is UTF-8 but the bytes are not valid UTF-8 (a mislabelled Latin-1 feed), decode as the
 * declaration says or, failing that, windows-1252.
 */
export function decodeFeed(body: Buffer, contentType: string | undefined): Decoded {
  for (const [bom, enc] of BOMS) {
    if (body.subarray(0, bom.length).equals(bom)) return { text: iconv.decode(body.subarray(bom.length), enc), encoding: enc, from: 'bom' };
  }
  const header = normalise(charsetFromContentType(contentType));
  const declared = normalise(charsetFromXmlDeclaration(body));
  const chosen = header ?? declared ?? 'utf-8';
  const from: Decoded['from'] = header ? 'content-type' : declared ? 'xml-declaration' : 'default';
  const utf8 = isValidUtf8(body);
  // A header saying Latin-1 over a document that declares and IS valid UTF-8: trust the bytes.
  if (!isUtf8(chosen) && declared && isUtf8(declared) && utf8) return { text: iconv.decode(body, 'utf-8'), encoding: 'utf-8', from: 'xml-declaration' };
  if (isUtf8(chosen) && !utf8) {
    const alt = declared && !isUtf8(declared) ? declared : 'windows-1252';
    return { text: iconv.decode(body, alt), encoding: alt, from: 'fallback' };
  }
  return { text: iconv.decode(body, chosen), encoding: chosen, from };
}

function isValidUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}
