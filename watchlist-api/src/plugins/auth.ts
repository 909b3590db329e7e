// Who is asking (docs/USERS.md). A bearer token is either API_TOKEN — the built-in admin, compared in
// constant time (both sides hashed first, so the time taken says nothing about its length or prefix) and
// known without a database — or an issued token (`mt_…`) looked up by its SHA-256. A browser session cookie
// (opened at /auth/login) identifies the same way. Nothing is cached: a revoked token is refused at once.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ADMIN_ID, bearerOf, canWrite, cookieOf, sha256, TOKEN_PREFIX, type Actor } from '../auth/identity.js';
import { ApiProblem, sendProblem } from '../problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

export const SESSION_COOKIE = 'mt_session';

export function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  // no/odd header compares the hash of '' (never the token: API_TOKEN has a minimum length)
  return timingSafeEqual(sha256(bearerOf(header) ?? ''), expected);
}

export interface Identities {
  /** SHA-256 of API_TOKEN (sessions opened with it remember it, so changing API_TOKEN ends them). */
  adminTokenHash: Buffer;
  fromBearer(header: string | undefined): Promise<Actor | null>;
  fromCookie(header: string | undefined): Promise<Actor | null>;
  /** Bearer first, then the session cookie. */
  of(req: FastifyRequest): Promise<Actor | null>;
}

export function identities(app: Pick<FastifyInstance, 'dbState' | 'users'>, adminToken: string, adminName: string): Identities {
  const adminTokenHash = sha256(adminToken);
  const admin: Actor = { id: ADMIN_ID, name: adminName, role: 'admin', tokenId: null };
  const fromBearer = async (header: string | undefined) => {
    if (tokenMatches(header, adminTokenHash)) return admin;
    const token = bearerOf(header);
    // anything else that is not an issued token is refused without a query (and while migrating)
    if (!token?.startsWith(TOKEN_PREFIX) || token.length > 200 || !app.dbState.migrated) return null;
    return app.users.byToken(token);
  };
  const fromCookie = async (header: string | undefined) => {
    const secret = cookieOf(header, SESSION_COOKIE);
    if (!secret || secret.length > 200 || !app.dbState.migrated) return null;
    return app.users.bySession(secret, adminTokenHash);
  };
  return {
    adminTokenHash,
    fromBearer,
    fromCookie,
    of: async (req) => (req.headers.authorization !== undefined ? fromBearer(req.headers.authorization) : fromCookie(req.headers.cookie)),
  };
}

/** Routes a viewer may call although they are not GET: they change nothing shared. */
const VIEWER_MAY = new Set(['/api/account/token/rotate', '/api/alert-rules/backtest']);

/** Register inside the /api scope: every route there requires an identity; viewers only read. */
export function requireIdentity(app: FastifyInstance, ids: Identities): void {
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (req, reply) => {
    const actor = await ids.fromBearer(req.headers.authorization);
    if (!actor) {
      void reply.header('www-authenticate', 'Bearer realm="watchlist-api"');
      return sendProblem(reply, req, new ApiProblem(401, 'missing or invalid bearer token (Authorization: Bearer <API_TOKEN or your issued token>)'));
    }
    req.actor = actor;
    if (req.method !== 'GET' && req.method !== 'HEAD' && !canWrite(actor) && !VIEWER_MAY.has(req.routeOptions.url ?? '')) {
      return sendProblem(reply, req, new ApiProblem(403, `${actor.name} is a viewer: viewers read, they cannot change anything`));
    }
  });
}
