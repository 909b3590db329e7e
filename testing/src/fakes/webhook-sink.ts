// A receiver of Alertmanager's generic webhook (webhook_configs): records the version-4 JSON payloads
// (fixtures/alertmanager/docs_configuration_webhook_config_excerpt.md.txt) posted to any path.
import { HttpFake, type Reply } from './http-fake.js';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export class WebhookSink extends HttpFake {
  /** Payloads accepted (answered 200), in order. */
  readonly payloads: WebhookPayload[] = [];

  constructor(readonly hookPath = '/alerts') {
    super('webhook');
    this.route('POST', hookPath, (r): Reply => {
      let p: WebhookPayload;
      try {
        p = JSON.parse(r.body) as WebhookPayload;
      } catch {
        return { status: 400, body: { error: 'invalid JSON' } };
      }
      if (p.version !== '4' || !Array.isArray(p.alerts)) return { status: 400, body: { error: 'not an Alertmanager v4 payload' } };
      this.payloads.push(p);
      return { status: 200, body: 'ok' };
    });
  }

  get webhookUrl(): string {
    return `${this.url}${this.hookPath}`;
  }
}
