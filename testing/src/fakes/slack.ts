// A local Slack incoming webhook (POST https://hooks.slack.com/services/T…/B…/secret), as Alertmanager's
// slack_configs uses it: a JSON body with `text`, `attachments` or `blocks`; `200 ok` on success and
// plain-text error strings otherwise (fixtures/slack/: invalid_payload 400, action_prohibited 403,
// no_service / channel_not_found 404; rate_limited 429 with Retry-After).
import { HttpFake, type RecordedRequest, type Reply } from './http-fake.js';

export interface SlackAttachment {
  title?: string;
  title_link?: string;
  text?: string;
  fallback?: string;
  color?: string;
  mrkdwn_in?: string[];
}

export interface SlackMessage {
  channel?: string;
  username?: string;
  text?: string;
  attachments: SlackAttachment[];
  at: number;
}

export class SlackFake extends HttpFake {
  /** Messages accepted (answered 200 ok), in order. */
  readonly messages: SlackMessage[] = [];
  private limited = 0;
  private retryAfterSec = 1;

  constructor(readonly hookPath = '/services/T0MTTEST1/B0MTTEST2/mtTestSecret0123456789ab') {
    super('slack');
    this.route('POST', /^\/services\//, (r) => this.post(r));
  }

  get webhookUrl(): string {
    return `${this.url}${this.hookPath}`;
  }

  /** The next `times` posts answer 429 `rate_limited` with `Retry-After: retryAfterSec` (Slack: about one message per second per webhook). */
  rateLimit(times: number, retryAfterSec = 1): this {
    this.limited = times;
    this.retryAfterSec = retryAfterSec;
    return this;
  }

  postRequests(): RecordedRequest[] {
    return this.requestsTo(/^\/services\//);
  }

  private post(r: RecordedRequest): Reply {
    const text = (status: number, body: string, headers: Record<string, string> = {}): Reply => ({ status, headers: { 'content-type': 'text/html', ...headers }, body });
    if (r.path !== this.hookPath) return text(404, 'no_service');
    if (this.limited > 0) {
      this.limited--;
      return text(429, 'rate_limited', { 'retry-after': String(this.retryAfterSec) });
    }
    let body: { channel?: unknown; username?: unknown; text?: unknown; attachments?: unknown; blocks?: unknown };
    try {
      body = JSON.parse(r.body) as typeof body;
    } catch {
      return text(400, 'invalid_payload');
    }
    const attachments = Array.isArray(body.attachments) ? (body.attachments as SlackAttachment[]) : [];
    const hasText = typeof body.text === 'string' && body.text.trim() !== '';
    if (!hasText && !Array.isArray(body.blocks) && !attachments.some((a) => a.text || a.fallback)) return text(400, 'missing_text_or_fallback_or_attachments');
    this.messages.push({
      ...(typeof body.channel === 'string' ? { channel: body.channel } : {}),
      ...(typeof body.username === 'string' ? { username: body.username } : {}),
      ...(hasText ? { text: body.text as string } : {}),
      attachments,
      at: r.at,
    });
    return text(200, 'ok');
  }
}
