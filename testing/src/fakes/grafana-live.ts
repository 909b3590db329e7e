// A protocol-true local Grafana Live push endpoint, read from Grafana 12.3's source (compose pins
// grafana/grafana:12.3.0; docs/GRAFANA_LIVE.md lists every file this follows):
// - route: `POST /api/live/push/:streamId` is registered in pkg/api/api.go inside the `/api` group that
//   only requires `reqSignedIn` (any role, Viewer included); without a valid token the answer is 401.
// - handler: pkg/services/live/pushhttp/push.go — the frame format comes from `?gf_live_frame_format=`
//   (pkg/services/live/pushurl/values.go: default `labels_column`, else `wide`; anything else → 400);
//   a body that does not parse as line protocol → 500 (not 400); each converted frame is pushed to the
//   managed stream; 200 with an empty body when all are published.
// - conversion: pkg/services/live/convert/convert.go + telemetry/telegraf/convert.go (influxdata/
//   line-protocol v1 parser, `WithFloat64Numbers(true)`: every number, int/uint included, becomes a
//   nullable float64; strings nullable string, booleans nullable bool). labels_column: ONE frame per
//   measurement per request, fields `labels` (string, data.Labels.String() = `k=v, k=v` sorted), `time`,
//   then the value fields in order of first appearance (each line's fields sorted by key), shorter
//   columns padded with null. wide: one frame per measurement+timestamp, `time` then the line's fields
//   sorted, each carrying the line's tags as labels.
// - delivery: pkg/services/live/managedstream/runner.go — channel `stream/<streamId>/<measurement>`; the
//   frame JSON (data.FrameToJSON) carries the schema only when it differs from the cached one for that
//   channel, otherwise data only. The browser side (public/app/features/live/data/StreamingDataFrame.ts)
//   resets a panel's buffered rows when the structure changes, so a stable schema per channel matters:
//   `schemaChanges` counts them per channel for tests.
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';

// ---------------- line protocol (influxdata/line-protocol v1 semantics) ----------------

export type LineValue = { kind: 'float'; v: number } | { kind: 'int'; v: number } | { kind: 'uint'; v: number } | { kind: 'bool'; v: boolean } | { kind: 'string'; v: string };

export interface LineMetric {
  name: string;
  /** In line order (Grafana turns them into a map, so order never matters downstream). */
  tags: [string, string][];
  fields: [string, LineValue][];
  /** Epoch nanoseconds (line protocol's default precision; the push endpoint takes no precision). */
  timeNs: bigint;
}

export class LineProtocolError extends Error {}

/** Split on `sep` outside escapes (and outside double quotes when `quotes`). Keeps escapes. */
function splitUnescaped(s: string, sep: string, quotes: boolean): string[] {
  const out: string[] = [];
  let cur = '';
  let inQ = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
      continue;
    }
    if (quotes && c === '"') inQ = !inQ;
    if (c === sep && !inQ) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (inQ) throw new LineProtocolError('unterminated string field');
  out.push(cur);
  return out;
}

const unescape = (s: string, chars: string) => s.replace(/\\(.)/g, (m, c: string) => (chars.includes(c) ? c : m));

function parseValue(raw: string): LineValue {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) throw new LineProtocolError(`bad string field ${raw}`);
    return { kind: 'string', v: raw.slice(1, -1).replace(/\\(["\\])/g, '$1') };
  }
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return { kind: 'bool', v: true };
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return { kind: 'bool', v: false };
  if (/^-?\d+i$/.test(raw)) return { kind: 'int', v: Number(raw.slice(0, -1)) };
  if (/^\d+u$/.test(raw)) return { kind: 'uint', v: Number(raw.slice(0, -1)) };
  // the parser's float grammar: optional sign, digits with an optional fraction, optional exponent (no NaN/Inf)
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return { kind: 'float', v: Number(raw) };
  throw new LineProtocolError(`bad field value ${raw}`);
}

export function parseLineProtocol(body: string, nowNs: () => bigint = () => BigInt(Date.now()) * 1_000_000n): LineMetric[] {
  const out: LineMetric[] = [];
  for (const rawLine of body.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const sections = splitUnescaped(line, ' ', true).filter((s, i) => s !== '' || i === 0);
    if (sections.length < 2 || sections.length > 3) throw new LineProtocolError(`expected "measurement[,tags] fields [time]": ${line}`);
    const [head, fieldsRaw, tsRaw] = sections as [string, string, string | undefined];
    const headParts = splitUnescaped(head, ',', false);
    const name = unescape(headParts[0]!, ', ');
    if (!name) throw new LineProtocolError(`missing measurement: ${line}`);
    const tags = headParts.slice(1).map((t): [string, string] => {
      const kv = splitUnescaped(t, '=', false);
      if (kv.length !== 2 || !kv[0] || !kv[1]) throw new LineProtocolError(`bad tag ${t}`);
      return [unescape(kv[0], ',= '), unescape(kv[1], ',= ')];
    });
    const fields = splitUnescaped(fieldsRaw, ',', true).map((f): [string, LineValue] => {
      const eq = findUnescaped(f, '=');
      if (eq <= 0) throw new LineProtocolError(`bad field ${f}`);
      return [unescape(f.slice(0, eq), ',= '), parseValue(f.slice(eq + 1))];
    });
    if (!fields.length) throw new LineProtocolError(`no fields: ${line}`);
    let timeNs: bigint;
    if (tsRaw === undefined) timeNs = nowNs();
    else if (/^-?\d+$/.test(tsRaw)) timeNs = BigInt(tsRaw);
    else throw new LineProtocolError(`bad timestamp ${tsRaw}`);
    out.push({ name, tags, fields, timeNs });
  }
  return out;
}

function findUnescaped(s: string, c: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === c) return i;
  }
  return -1;
}

// ---------------- conversion to data frames (telemetry/telegraf/convert.go) ----------------

export type FieldType = 'string' | 'time' | 'number' | 'boolean';

export interface FrameField {
  name: string;
  type: FieldType;
  /** Go type of the column, as typeInfo.frame says in the frame JSON. */
  frameType: 'string' | 'time.Time' | 'float64' | 'bool';
  nullable: boolean;
  labels?: Record<string, string>;
  values: (string | number | boolean | null)[];
}

export interface Frame {
  name: string;
  fields: FrameField[];
}

const goType = { string: 'string', time: 'time.Time', number: 'float64', boolean: 'bool' } as const;

function valueField(name: string, v: LineValue): { type: FieldType; value: string | number | boolean | null } {
  switch (v.kind) {
    case 'string':
      // Telegraf extensions that send NaN as a string: the converter turns it into a null float
      return v.v === 'NaN' ? { type: 'number', value: null } : { type: 'string', value: v.v };
    case 'bool':
      return { type: 'boolean', value: v.v };
    default:
      return { type: 'number', value: v.v };
  }
}

/** data.Labels.String(): sorted keys, `k=v` joined by ", ". */
export function labelsString(tags: [string, string][]): string {
  const m = new Map(tags);
  return [...m.keys()]
    .sort()
    .map((k) => `${k}=${m.get(k)}`)
    .join(', ');
}

const byKey = (a: [string, LineValue], b: [string, LineValue]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const nsToMs = (ns: bigint) => Number(ns / 1_000_000n);

export function convertLabelsColumn(metrics: LineMetric[]): Frame[] {
  const frames = new Map<string, { frame: Frame; cache: Map<string, number> }>();
  for (const m of metrics) {
    let f = frames.get(m.name);
    if (!f) {
      f = {
        frame: {
          name: m.name,
          fields: [
            { name: 'labels', type: 'string', frameType: 'string', nullable: false, values: [] },
            { name: 'time', type: 'time', frameType: 'time.Time', nullable: false, values: [] },
          ],
        },
        cache: new Map(),
      };
      frames.set(m.name, f);
    }
    const [labels, time] = f.frame.fields as [FrameField, FrameField];
    labels.values.push(labelsString(m.tags));
    time.values.push(nsToMs(m.timeNs));
    const rows = labels.values.length;
    for (const [key, raw] of [...m.fields].sort(byKey)) {
      const { type, value } = valueField(key, raw);
      const idx = f.cache.get(key);
      if (idx !== undefined) {
        const field = f.frame.fields[idx]!;
        let v = value;
        // a later line with another type for the same field: stringified into a string column, else null
        if (type !== field.type) v = field.type === 'string' && value !== null ? String(value) : null;
        while (field.values.length < rows - 1) field.values.push(null);
        field.values.push(v);
      } else {
        const field: FrameField = { name: key, type, frameType: goType[type], nullable: true, values: [] };
        while (field.values.length < rows - 1) field.values.push(null);
        field.values.push(value);
        f.frame.fields.push(field);
        f.cache.set(key, f.frame.fields.length - 1);
      }
    }
  }
  for (const { frame } of frames.values()) {
    const rows = frame.fields[0]!.values.length;
    for (const field of frame.fields.slice(2)) while (field.values.length < rows) field.values.push(null);
  }
  return [...frames.values()].map((f) => f.frame);
}

export function convertWide(metrics: LineMetric[]): Frame[] {
  const frames = new Map<string, Frame>();
  for (const m of metrics) {
    const key = `${m.name}_${m.timeNs}`;
    let frame = frames.get(key);
    if (!frame) {
      frame = { name: m.name, fields: [{ name: 'time', type: 'time', frameType: 'time.Time', nullable: false, values: [nsToMs(m.timeNs)] }] };
      frames.set(key, frame);
    }
    const labels = Object.fromEntries(m.tags);
    for (const [k, raw] of [...m.fields].sort(byKey)) {
      const { type, value } = valueField(k, raw);
      frame.fields.push({ name: k, type, frameType: goType[type], nullable: true, labels, values: [value] });
    }
  }
  return [...frames.values()];
}

// ---------------- frame JSON as published on the websocket (data.FrameToJSON) ----------------

export interface FrameJSON {
  schema?: { name: string; fields: { name: string; type: FieldType; typeInfo: { frame: string; nullable?: boolean }; labels?: Record<string, string> }[] };
  data?: { values: (string | number | boolean | null)[][] };
}

export function frameSchema(f: Frame): NonNullable<FrameJSON['schema']> {
  return {
    name: f.name,
    fields: f.fields.map((x) => ({
      name: x.name,
      type: x.type,
      typeInfo: x.nullable ? { frame: x.frameType, nullable: true } : { frame: x.frameType },
      ...(x.labels && Object.keys(x.labels).length ? { labels: x.labels } : {}),
    })),
  };
}

export interface Publication {
  channel: string;
  at: number;
  /** The frame as converted (always complete, for assertions). */
  frame: Frame;
  /** What subscribers receive: schema + data when the schema changed for the channel, else data only. */
  json: FrameJSON;
}

export interface GrafanaLiveFakeOptions {
  /** Service-account tokens accepted as `Authorization: Bearer …`. */
  tokens?: string[];
}

/** The push handler writes no body: Go's net/http answers `Content-Length: 0`, not chunked (docs/GRAFANA_LIVE.md). */
const NO_BODY = { 'content-length': '0' };

/**
 * Grafana's push endpoint on loopback. Faults (a status, a stall, a dropped socket) come from HttpFake's
 * `fail()`; `stop()`/`listen(port)` take it down and up again on the same port.
 */
export class GrafanaLiveFake extends HttpFake {
  readonly publications: Publication[] = [];
  /** Schema sends per channel after the first: each one resets a subscribed panel's buffer. */
  readonly schemaChanges = new Map<string, number>();
  /** Every accepted push: when it arrived and how many lines it carried. */
  readonly pushes: { at: number; lines: number; streamId: string }[] = [];
  private readonly tokens: Set<string>;
  private readonly schemas = new Map<string, string>();

  constructor(opts: GrafanaLiveFakeOptions = {}) {
    super('grafana-live');
    this.tokens = new Set(opts.tokens ?? ['glsa_test_live_token']);
    this.route('POST', /^\/api\/live\/push\/[^/]+$/, (req) => this.push(req));
  }

  setTokens(tokens: string[]): void {
    this.tokens.clear();
    for (const t of tokens) this.tokens.add(t);
  }

  /** Publications on one channel (`stream/<streamId>/<measurement>`). */
  on(channel: string): Publication[] {
    return this.publications.filter((p) => p.channel === channel);
  }

  private push(req: RecordedRequest): Reply {
    const auth = String(req.headers.authorization ?? '');
    const m = /^Bearer (.+)$/.exec(auth);
    if (!m) return { status: 401, body: { message: 'Unauthorized' } };
    if (!this.tokens.has(m[1]!)) return { status: 401, body: { message: 'Invalid API key', messageId: 'api-key.invalid', statusCode: 401, traceID: '' } };
    const streamId = decodeURIComponent(req.path.slice('/api/live/push/'.length));
    const format = (req.query.get('gf_live_frame_format') ?? '').toLowerCase() || 'labels_column';
    if (format !== 'labels_column' && format !== 'wide') return { status: 400, body: '', headers: NO_BODY };
    let frames: Frame[];
    try {
      const metrics = parseLineProtocol(req.body);
      frames = format === 'wide' ? convertWide(metrics) : convertLabelsColumn(metrics);
      this.pushes.push({ at: req.at, lines: metrics.length, streamId });
    } catch {
      return { status: 500, body: '', headers: NO_BODY };
    }
    for (const frame of frames) {
      const channel = `stream/${streamId}/${frame.name}`;
      const schema = JSON.stringify(frameSchema(frame));
      const prev = this.schemas.get(channel);
      const values = frame.fields.map((f) => f.values);
      let json: FrameJSON;
      if (prev === schema) json = { data: { values } };
      else {
        if (prev !== undefined) this.schemaChanges.set(channel, (this.schemaChanges.get(channel) ?? 0) + 1);
        this.schemas.set(channel, schema);
        json = { schema: JSON.parse(schema) as FrameJSON['schema'], data: { values } };
      }
      this.publications.push({ channel, at: req.at, frame, json });
    }
    return { status: 200, body: '', headers: NO_BODY };
  }

  /** Take the endpoint down (connection refused) until `listen(port)` again. */
  async stop(): Promise<number> {
    const port = this.port;
    await this.close();
    return port;
  }
}

/**
 * What a panel holds after subscribing, for labels_column frames: StreamingDataFrame.push() in labels mode
 * splits each publication by its `labels` value into one set of fields per label set (parsed with
 * parseLabelsFromField: split on "," then "="). Returns label set → field name → values (time included).
 */
export function panelSeries(pubs: Publication[]): Map<string, { labels: Record<string, string>; fields: Map<string, (string | number | boolean | null)[]> }> {
  const out = new Map<string, { labels: Record<string, string>; fields: Map<string, (string | number | boolean | null)[]> }>();
  let names: string[] = [];
  for (const p of pubs) {
    if (p.json.schema) names = p.json.schema.fields.map((f) => f.name);
    const values = p.json.data?.values;
    if (!values || names[0] !== 'labels') continue;
    for (let r = 0; r < values[0]!.length; r++) {
      const label = String(values[0]![r]);
      let s = out.get(label);
      if (!s) {
        const labels: Record<string, string> = {};
        for (const kv of label.split(',')) {
          const [k, v] = kv.trim().split('=');
          labels[k!] = v!;
        }
        s = { labels, fields: new Map() };
        out.set(label, s);
      }
      for (let c = 1; c < names.length; c++) {
        const col = s.fields.get(names[c]!) ?? [];
        col.push(values[c]![r]!);
        s.fields.set(names[c]!, col);
      }
    }
  }
  return out;
}
