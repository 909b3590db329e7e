// A local Telegram Bot API (https://core.telegram.org/bots/api, excerpt in fixtures/telegram/): the
// `https://api.telegram.org/bot<token>/METHOD` layout, parameters as query string, form or JSON (method
// names case-insensitive), `{ok, result}` / `{ok:false, error_code, description, parameters}` answers.
// Error bodies are the recorded ones in fixtures/telegram/. No recorded sendMessage success body exists
// (fixtures/SOURCES.md), so the Message returned is built from the documented Message type.
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';

export interface TelegramMessage {
  message_id: number;
  chat_id: string;
  text: string;
  parse_mode?: string;
  disable_notification: boolean;
  at: number;
}

interface TgError {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
}

export class TelegramFake extends HttpFake {
  /** Messages accepted (answered ok:true), in order. */
  readonly messages: TelegramMessage[] = [];
  private nextId = 1;
  /** Flood control armed: the next sendMessage starts a window of this many seconds. */
  private floodArmedSec: number | undefined;
  private floodUntil = 0;

  constructor(readonly token = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11') {
    super('telegram');
    this.route('POST', /^\/bot[^/]+\/[A-Za-z]+$/, (r) => this.handleMethod(r));
    this.route('GET', /^\/bot[^/]+\/[A-Za-z]+$/, (r) => this.handleMethod(r));
  }

  /**
   * Flood control, as Telegram applies it: from the next sendMessage on, every sendMessage for
   * `retryAfterSec` seconds answers 429 with `parameters.retry_after` = the seconds left.
   */
  flood(retryAfterSec: number): this {
    this.floodArmedSec = retryAfterSec;
    return this;
  }

  /** sendMessage calls received, accepted or not. */
  sendMessageRequests(): RecordedRequest[] {
    return this.requests.filter((r) => /\/sendmessage$/i.test(r.path));
  }

  private handleMethod(r: RecordedRequest): Reply {
    const [, token, method] = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(r.path)!;
    if (token !== this.token) return err(401, 'Unauthorized');
    const p = params(r);
    switch (method!.toLowerCase()) {
      case 'getme':
        return ok({ id: Number(this.token.split(':')[0]), is_bot: true, first_name: 'Market Terminal', username: 'market_terminal_bot' });
      case 'sendmessage':
        return this.sendMessage(r, p);
      default:
        return err(404, 'Not Found');
    }
  }

  private sendMessage(r: RecordedRequest, p: Record<string, unknown>): Reply {
    if (this.floodArmedSec !== undefined) {
      this.floodUntil = r.at + this.floodArmedSec * 1000;
      this.floodArmedSec = undefined;
    }
    if (r.at < this.floodUntil) {
      const left = Math.ceil((this.floodUntil - r.at) / 1000);
      // the recorded compact 429 body, with the seconds left
      const body = fixtureJson<TgError>('telegram/error_429_compact_retry_after_8.json');
      return { status: 429, body: { ...body, description: `Too Many Requests: retry after ${left}`, parameters: { retry_after: left } } };
    }
    const chatId = p.chat_id === undefined ? '' : String(p.chat_id);
    const text = p.text === undefined ? '' : String(p.text);
    if (!chatId) return err(400, 'Bad Request: chat_id is empty');
    if (!text.trim()) return err(400, 'Bad Request: message text is empty');
    if ([...text].length > 4096) return err(400, 'Bad Request: message is too long');
    const parseMode = p.parse_mode === undefined ? undefined : String(p.parse_mode);
    if (parseMode === 'HTML') {
      const bad = unbalancedHtml(text);
      if (bad) return err(400, `Bad Request: can't parse entities: ${bad}`);
    }
    const msg: TelegramMessage = {
      message_id: this.nextId++,
      chat_id: chatId,
      text,
      ...(parseMode ? { parse_mode: parseMode } : {}),
      disable_notification: p.disable_notification === true || p.disable_notification === 'true',
      at: r.at,
    };
    this.messages.push(msg);
    const numericChat = /^-?\d+$/.test(chatId) ? Number(chatId) : undefined;
    return ok({
      message_id: msg.message_id,
      from: { id: Number(this.token.split(':')[0]), is_bot: true, first_name: 'Market Terminal', username: 'market_terminal_bot' },
      chat: numericChat !== undefined && numericChat < 0 ? { id: numericChat, title: 'alerts', type: 'supergroup' } : { id: numericChat ?? 0, type: 'private' },
      date: Math.floor(r.at / 1000),
      text: stripHtml(text),
    });
  }
}

function ok(result: unknown): Reply {
  return { status: 200, body: { ok: true, result } };
}

function err(code: number, description: string): Reply {
  return { status: code, body: { ok: false, error_code: code, description } satisfies TgError };
}

/** Query string, then form or JSON body (the four ways the API accepts, minus multipart). */
function params(r: RecordedRequest): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(r.query);
  const type = String(r.headers['content-type'] ?? '');
  if (!r.body) return out;
  if (type.includes('application/json')) Object.assign(out, JSON.parse(r.body) as Record<string, unknown>);
  else if (type.includes('application/x-www-form-urlencoded')) Object.assign(out, Object.fromEntries(new URLSearchParams(r.body)));
  return out;
}

/** Telegram's HTML mode accepts a few tags and needs &, <, > escaped elsewhere; a crude but strict check. */
function unbalancedHtml(text: string): string | undefined {
  const allowed = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'tg-spoiler', 'span', 'blockquote']);
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-z-]+)[^>]*>|<|&(?![a-z]+;|#\d+;)/g)) {
    if (!m[2]) return `unescaped "${m[0]}" at byte offset ${m.index}`;
    if (!allowed.has(m[2])) return `unsupported start tag "${m[2]}" at byte offset ${m.index}`;
    if (!m[1]) stack.push(m[2]);
    else if (stack.pop() !== m[2]) return `can't find end tag corresponding to start tag "${m[2]}"`;
  }
  return stack.length ? `can't find end tag corresponding to start tag "${stack[stack.length - 1]}"` : undefined;
}

function stripHtml(text: string): string {
  return text
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
