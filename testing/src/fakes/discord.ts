// A local Discord Execute Webhook endpoint (POST /api/webhooks/{id}/{token}), as Alertmanager's
// discord_configs uses it: a JSON body with `content` and/or `embeds`; 204 No Content on success (200
// with the message under `?wait=true`); errors as `{message, code}` JSON (recorded bodies in
// fixtures/discord/); rate-limit headers on every answer and a 429 with `retry_after` when limited.
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';
import { fixtureJson } from '../fixtures.js';

export interface DiscordEmbed {
  title?: string;
  description?: string;
  color?: number;
}

export interface DiscordMessage {
  id: string;
  content?: string;
  embeds: DiscordEmbed[];
  at: number;
}

interface RecordedAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

// Discord's documented message limits (Channel resource, "Embed Limits")
const LIMITS = { content: 2000, title: 256, description: 4096, embeds: 10, total: 6000 };

export class DiscordFake extends HttpFake {
  /** Messages accepted, in order. */
  readonly messages: DiscordMessage[] = [];
  private nextId = 1n;
  private limited = 0;
  private retryAfterSec = 1;

  constructor(
    readonly webhookId = '1180000000000000001',
    readonly webhookToken = 'mt-test_token-aBcDeFgHiJkLmNoP',
  ) {
    super('discord');
    this.route('POST', /^\/api\/(?:v\d+\/)?webhooks\/[^/]+\/[^/]+$/, (r) => this.execute(r));
  }

  /** The URL a user copies from Discord's channel settings → Integrations → Webhooks. */
  get webhookUrl(): string {
    return `${this.url}/api/webhooks/${this.webhookId}/${this.webhookToken}`;
  }

  /** The next `times` executions answer the documented 429 (body and X-RateLimit-* headers) with `retry_after`. */
  rateLimit(times: number, retryAfterSec = 1): this {
    this.limited = times;
    this.retryAfterSec = retryAfterSec;
    return this;
  }

  executeRequests(): RecordedRequest[] {
    return this.requestsTo(/^\/api\/(?:v\d+\/)?webhooks\//);
  }

  private execute(r: RecordedRequest): Reply {
    const [, , id, token] = /^\/api\/(v\d+\/)?webhooks\/([^/]+)\/([^/]+)$/.exec(r.path)!;
    const rate = { 'x-ratelimit-bucket': 'mt-bucket', 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '1' };
    if (id !== this.webhookId) return { status: 404, headers: rate, body: fixtureJson('discord/error_404_unknown_webhook.json') };
    if (token !== this.webhookToken) return { status: 401, headers: rate, body: fixtureJson('discord/error_401_invalid_webhook_token.json') };
    if (this.limited > 0) {
      this.limited--;
      const rec = fixtureJson<RecordedAnswer>('discord/response_429_rate_limited_docs.json');
      return {
        status: 429,
        headers: { ...rec.headers, 'retry-after': String(this.retryAfterSec), 'x-ratelimit-reset-after': String(this.retryAfterSec), 'x-ratelimit-scope': 'shared' },
        body: { ...(rec.body as object), retry_after: this.retryAfterSec },
      };
    }
    let body: { content?: unknown; embeds?: unknown };
    try {
      body = JSON.parse(r.body) as typeof body;
    } catch {
      return { status: 400, headers: rate, body: { message: 'The request body contains invalid JSON.', code: 50109 } };
    }
    const content = typeof body.content === 'string' ? body.content : undefined;
    const embeds = Array.isArray(body.embeds) ? (body.embeds as DiscordEmbed[]) : [];
    if (!content?.trim() && embeds.length === 0) {
      const rec = fixtureJson<RecordedAnswer>('discord/response_400_empty_message_recorded.json');
      return { status: rec.status, headers: rec.headers, body: rec.body };
    }
    const tooLong =
      (content?.length ?? 0) > LIMITS.content ||
      embeds.length > LIMITS.embeds ||
      embeds.some((e) => (e.title?.length ?? 0) > LIMITS.title || (e.description?.length ?? 0) > LIMITS.description) ||
      embeds.reduce((n, e) => n + (e.title?.length ?? 0) + (e.description?.length ?? 0), 0) > LIMITS.total;
    if (tooLong) return { status: 400, headers: rate, body: { message: 'Invalid Form Body', code: 50035 } };
    const msg: DiscordMessage = { id: String(this.nextId++), ...(content !== undefined ? { content } : {}), embeds, at: r.at };
    this.messages.push(msg);
    if (r.query.get('wait') === 'true') return { status: 200, headers: rate, body: { id: msg.id, type: 0, content: content ?? '', embeds, webhook_id: id } };
    return { status: 204, headers: rate };
  }
}
