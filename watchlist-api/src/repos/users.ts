// Users, their API tokens and browser sessions in PostgreSQL (docs/USERS.md). Every identity check is one
// indexed query on the token's (or session's) SHA-256 joined with the user: no cache, so a revoked token, a
// disabled user or a changed role takes effect on the very next request.
import type { Db } from '../db.js';
import { ADMIN_ID, newSecret, newToken, sha256, type Actor, type Role } from '../auth/identity.js';
import { ApiProblem, notFound } from '../problem.js';
import type { IssuedToken, TokenInfo, User } from '../schemas-users.js';

interface UserRow {
  id: string;
  name: string;
  role: Role;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}
interface TokenRow {
  id: string;
  user_id: string;
  prefix: string;
  label: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const toToken = (t: TokenRow): TokenInfo => ({
  id: t.id,
  prefix: t.prefix,
  label: t.label,
  created_at: t.created_at.toISOString(),
  revoked_at: t.revoked_at ? t.revoked_at.toISOString() : null,
});

/** How long a browser session lasts (it also ends with its token or its user). */
export const SESSION_TTL_S = 12 * 3600;

export class UserRepo {
  constructor(private readonly db: Db) {}

  private async withTokens(rows: UserRow[]): Promise<User[]> {
    if (!rows.length) return [];
    const tokens = await this.db.query<TokenRow>('SELECT id, user_id, prefix, label, created_at, revoked_at FROM api_tokens WHERE user_id = ANY($1::uuid[]) ORDER BY created_at, id', [
      rows.map((r) => r.id),
    ]);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      disabled: r.disabled_at !== null,
      tokens: tokens.rows.filter((t) => t.user_id === r.id).map(toToken),
      created_at: r.created_at.toISOString(),
      updated_at: r.updated_at.toISOString(),
    }));
  }

  async list(limit: number, offset: number): Promise<{ data: User[]; total: number }> {
    const [page, count] = await Promise.all([
      this.db.query<UserRow>('SELECT * FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2', [limit, offset]),
      this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users'),
    ]);
    return { data: await this.withTokens(page.rows), total: count.rows[0]!.n };
  }

  async get(id: string): Promise<User> {
    const r = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    if (!r.rows[0]) throw notFound('user', id);
    return (await this.withTokens(r.rows))[0]!;
  }

  /** A new user and its first token (the only time the token is shown). */
  async create(input: { name: string; role: Role; token_label?: string | undefined }): Promise<User & { token: IssuedToken }> {
    const { user, token } = await this.db.tx(async (q) => {
      const u = await q.query<UserRow>('INSERT INTO users (name, role) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING *', [input.name, input.role]);
      if (!u.rows[0]) throw new ApiProblem(409, `a user named ${input.name} already exists`);
      return { user: u.rows[0], token: await this.insertToken(q, u.rows[0].id, input.token_label ?? null) };
    }, false);
    return { ...(await this.withTokens([user]))[0]!, token };
  }

  async patch(id: string, input: { role?: Role | undefined; disabled?: boolean | undefined }): Promise<User> {
    // API_TOKEN is always the admin: its user can be neither demoted nor disabled
    if (id === ADMIN_ID && ((input.role !== undefined && input.role !== 'admin') || input.disabled === true)) {
      throw new ApiProblem(409, 'the built-in admin (API_TOKEN) cannot be demoted or disabled');
    }
    // disabling or enabling a user changes which alert rules the feeders evaluate: they are told with the commit
    const r = await this.db.tx(
      (q) =>
        q.query<UserRow>(
          `UPDATE users SET role = COALESCE($2, role),
             disabled_at = CASE WHEN $3::boolean IS NULL THEN disabled_at WHEN $3 THEN COALESCE(disabled_at, now()) ELSE NULL END,
             updated_at = now()
           WHERE id = $1 RETURNING *`,
          [id, input.role ?? null, input.disabled ?? null],
        ),
      input.disabled !== undefined ? 'user' : false,
    );
    if (!r.rows[0]) throw notFound('user', id);
    return (await this.withTokens(r.rows))[0]!;
  }

  private async insertToken(q: Pick<Db, 'query'>, userId: string, label: string | null): Promise<IssuedToken> {
    const t = newToken();
    const r = await q.query<TokenRow>('INSERT INTO api_tokens (user_id, token_hash, prefix, label) VALUES ($1, $2, $3, $4) RETURNING *', [userId, t.hash, t.prefix, label]);
    return { ...toToken(r.rows[0]!), token: t.token };
  }

  async issueToken(userId: string, label: string | null): Promise<IssuedToken> {
    const u = await this.db.query('SELECT 1 FROM users WHERE id = $1', [userId]);
    if (!u.rowCount) throw notFound('user', userId);
    return this.insertToken(this.db, userId, label);
  }

  async revokeToken(userId: string, tokenId: string): Promise<TokenInfo> {
    const r = await this.db.query<TokenRow>('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND user_id = $2 RETURNING *', [tokenId, userId]);
    if (!r.rows[0]) throw notFound(`token ${tokenId} of user`, userId);
    return toToken(r.rows[0]);
  }

  /** Replace the token this request came with by a new one (same label unless given), in one transaction. */
  rotate(actor: Actor, label?: string): Promise<IssuedToken> {
    if (actor.tokenId === null) throw new ApiProblem(409, 'API_TOKEN is set in the environment: rotate it there (or use an issued token)');
    const tokenId = actor.tokenId;
    return this.db.tx(async (q) => {
      const old = await q.query<TokenRow>('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING *', [tokenId]);
      // revoked between this request's check and now: nothing to rotate
      if (!old.rows[0]) throw new ApiProblem(401, 'this token has been revoked');
      return this.insertToken(q, actor.id, label ?? old.rows[0].label);
    }, false);
  }

  /** The identity of an issued token, or null (unknown, revoked, or its user disabled). */
  async byToken(token: string): Promise<Actor | null> {
    const r = await this.db.query<{ id: string; name: string; role: Role; token_id: string }>(
      `SELECT u.id, u.name, u.role, t.id AS token_id FROM api_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL`,
      [sha256(token)],
    );
    const a = r.rows[0];
    return a ? { id: a.id, name: a.name, role: a.role, tokenId: a.token_id } : null;
  }

  /** A browser session opened with a credential; the cookie value is returned, only its hash stored. */
  async openSession(actor: Actor, adminTokenHash: Buffer): Promise<string> {
    const { secret, hash } = newSecret();
    await this.db.query('DELETE FROM sessions WHERE expires_at < now()');
    await this.db.query(`INSERT INTO sessions (id_hash, user_id, token_id, admin_token_hash, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`, [
      hash,
      actor.id,
      actor.tokenId,
      actor.tokenId === null ? adminTokenHash : null,
      SESSION_TTL_S,
    ]);
    return secret;
  }

  /** The identity of a session cookie, or null (unknown, expired, its token revoked, its user disabled, API_TOKEN changed). */
  async bySession(secret: string, adminTokenHash: Buffer): Promise<Actor | null> {
    const r = await this.db.query<{ id: string; name: string; role: Role; token_id: string | null }>(
      `SELECT u.id, u.name, u.role, s.token_id FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN api_tokens t ON t.id = s.token_id
       WHERE s.id_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL
         AND ((t.id IS NOT NULL AND t.revoked_at IS NULL) OR s.admin_token_hash = $2)`,
      [sha256(secret), adminTokenHash],
    );
    const a = r.rows[0];
    return a ? { id: a.id, name: a.name, role: a.role, tokenId: a.token_id } : null;
  }

  async closeSession(secret: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE id_hash = $1', [sha256(secret)]);
  }

  /** The built-in admin takes API_ADMIN_USER's name (the Grafana admin's login, so both are one user). */
  async nameAdmin(name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $2 WHERE id = $1 AND name <> $2', [ADMIN_ID, name]);
  }
}
