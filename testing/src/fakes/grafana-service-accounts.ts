// Grafana 12.3's service-account HTTP API (compose pins grafana/grafana:12.3.0) beside its Live push
// endpoint, sharing the tokens: a token made here is accepted by `POST /api/live/push/:streamId`, a
// deleted one is refused (401) from then on. Read from Grafana's source:
// - routes, pkg/services/serviceaccounts/api/api.go: `GET /api/serviceaccounts/search` (query, perpage,
//   page → SearchOrgServiceAccountsResult {totalCount, serviceAccounts, page, perPage}), `POST
//   /api/serviceaccounts` (CreateServiceAccountForm {name, role, isDisabled} → 201 ServiceAccountDTO),
//   `PATCH /api/serviceaccounts/:id` (→ 200 {message, id, name, serviceaccount}); all need an org admin.
// - tokens, api/token.go: `GET …/:id/tokens` (→ 200 [TokenDTO {id, name, created, expiration,
//   secondsUntilExpiration, hasExpired, …}]), `POST …/:id/tokens` (AddServiceAccountTokenCommand {name,
//   secondsToLive} → 200 {id, name, key}, the key shown only once, `glsa_…`), `DELETE …/:id/tokens/:tokenId`
//   (→ 200 {message: "Service account token deleted"}); an unknown account → 404.
// - errors, pkg/services/serviceaccounts/models.go (errutil, body {message, messageId, statusCode}): a
//   duplicate account name → 400 `serviceaccounts.ErrAlreadyExists` "service account already exists";
//   a duplicate token name in the org → 400 `serviceaccounts.ErrTokenAlreadyExists`; not found → 404
//   `serviceaccounts.ErrNotFound`.
// - `/api/health` answers 200 once the database is up (pkg/api/health.go); without valid credentials the
//   API answers 401.
import { randomBytes } from 'node:crypto';
import type { RecordedRequest, Reply } from './http-fake.js';
import { GrafanaLiveFake } from './grafana-live.js';

export interface FakeServiceAccount {
  id: number;
  name: string;
  role: string;
  isDisabled: boolean;
  tokens: { id: number; name: string; key: string; created: string }[];
}

const err = (status: number, messageId: string, message: string): Reply => ({ status, body: { message, messageId, statusCode: status, traceID: '' } });

export class GrafanaFake extends GrafanaLiveFake {
  readonly accounts: FakeServiceAccount[] = [];
  private nextId = 2; // user 1 is the admin
  private nextTokenId = 1;

  constructor(
    private readonly admin: { user: string; password: string },
    /** Tokens accepted for pushes besides the service accounts' ones. */
    private readonly extraTokens: string[] = [],
  ) {
    super({ tokens: extraTokens });
    this.route('GET', '/api/health', () => ({ status: 200, body: { database: 'ok', version: '12.3.0' } }));
    this.route('GET', '/api/serviceaccounts/search', (r) => this.guard(r, () => this.search(r)));
    this.route('POST', '/api/serviceaccounts', (r) => this.guard(r, () => this.create(r)));
    this.route('PATCH', /^\/api\/serviceaccounts\/\d+$/, (r) => this.guard(r, () => this.patch(r)));
    this.route('GET', /^\/api\/serviceaccounts\/\d+\/tokens$/, (r) => this.guard(r, () => this.listTokens(r)));
    this.route('POST', /^\/api\/serviceaccounts\/\d+\/tokens$/, (r) => this.guard(r, () => this.addToken(r)));
    this.route('DELETE', /^\/api\/serviceaccounts\/\d+\/tokens\/\d+$/, (r) => this.guard(r, () => this.deleteToken(r)));
    this.syncTokens();
  }

  /** Revoke every token of the account (as an operator deleting them in the UI). */
  revokeAll(name: string): void {
    const a = this.accounts.find((x) => x.name === name);
    if (a) a.tokens.length = 0;
    this.syncTokens();
  }

  private syncTokens(): void {
    this.setTokens([...this.extraTokens, ...this.accounts.filter((a) => !a.isDisabled).flatMap((a) => a.tokens.map((t) => t.key))]);
  }

  private guard(req: RecordedRequest, fn: () => Reply): Reply {
    const m = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ''));
    const [user, ...pw] = m ? Buffer.from(m[1]!, 'base64').toString().split(':') : [];
    if (user !== this.admin.user || pw.join(':') !== this.admin.password) return err(401, 'auth.unauthorized', 'Unauthorized');
    return fn();
  }

  private account(req: RecordedRequest): FakeServiceAccount | undefined {
    const id = Number(/^\/api\/serviceaccounts\/(\d+)/.exec(req.path)![1]);
    return this.accounts.find((a) => a.id === id);
  }

  private dto(a: FakeServiceAccount) {
    return { id: a.id, uid: `sa${a.id}`, name: a.name, login: `sa-1-${a.name}`, orgId: 1, isDisabled: a.isDisabled, role: a.role, tokens: a.tokens.length, avatarUrl: '/avatar/0' };
  }

  private search(req: RecordedRequest): Reply {
    const q = (req.query.get('query') ?? '').toLowerCase();
    const perPage = Number(req.query.get('perpage')) || 1000;
    const hits = this.accounts.filter((a) => a.name.toLowerCase().includes(q));
    return { status: 200, body: { totalCount: hits.length, serviceAccounts: hits.slice(0, perPage).map((a) => this.dto(a)), page: 1, perPage } };
  }

  private create(req: RecordedRequest): Reply {
    const body = JSON.parse(req.body || '{}') as { name?: string; role?: string; isDisabled?: boolean };
    if (!body.name) return err(400, 'serviceaccounts.ErrInvalidInput', 'Bad request data');
    if (this.accounts.some((a) => a.name === body.name)) return err(400, 'serviceaccounts.ErrAlreadyExists', 'service account already exists');
    const a: FakeServiceAccount = { id: this.nextId++, name: body.name, role: body.role ?? 'None', isDisabled: body.isDisabled ?? false, tokens: [] };
    this.accounts.push(a);
    return { status: 201, body: this.dto(a) };
  }

  private patch(req: RecordedRequest): Reply {
    const a = this.account(req);
    if (!a) return err(404, 'serviceaccounts.ErrNotFound', 'service account not found');
    const body = JSON.parse(req.body || '{}') as { role?: string };
    if (body.role) a.role = body.role;
    return { status: 200, body: { message: 'Service account updated', id: a.id, name: a.name, serviceaccount: this.dto(a) } };
  }

  private listTokens(req: RecordedRequest): Reply {
    const a = this.account(req);
    if (!a) return err(404, 'serviceaccounts.ErrNotFound', 'service account not found');
    return {
      status: 200,
      body: a.tokens.map((t) => ({ id: t.id, name: t.name, created: t.created, expiration: null, secondsUntilExpiration: 0, hasExpired: false, isRevoked: false, lastUsedAt: null })),
    };
  }

  private addToken(req: RecordedRequest): Reply {
    const a = this.account(req);
    if (!a) return err(404, 'serviceaccounts.ErrNotFound', 'service account not found');
    const body = JSON.parse(req.body || '{}') as { name?: string };
    if (!body.name) return err(400, 'serviceaccounts.ErrInvalidInput', 'Bad request data');
    if (this.accounts.some((x) => x.tokens.some((t) => t.name === body.name)))
      return err(400, 'serviceaccounts.ErrTokenAlreadyExists', 'service account token with given name already exists in the organization');
    const t = { id: this.nextTokenId++, name: body.name, key: `glsa_${randomBytes(24).toString('base64url')}_${randomBytes(4).toString('hex')}`, created: new Date().toISOString() };
    a.tokens.push(t);
    this.syncTokens();
    return { status: 200, body: { id: t.id, name: t.name, key: t.key } };
  }

  private deleteToken(req: RecordedRequest): Reply {
    const a = this.account(req);
    if (!a) return err(404, 'serviceaccounts.ErrNotFound', 'service account not found');
    const id = Number(req.path.split('/').pop());
    const i = a.tokens.findIndex((t) => t.id === id);
    if (i < 0) return err(404, 'serviceaccounts.ErrTokenNotFound', 'service account token not found');
    a.tokens.splice(i, 1);
    this.syncTokens();
    return { status: 200, body: { message: 'Service account token deleted' } };
  }
}
