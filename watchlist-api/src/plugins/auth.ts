// Bearer-token check for /api/*. Both sides are hashed first so timingSafeEqual compares equal-length
// buffers and the time taken says nothing about the token's length or prefix.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiProblem, sendProblem } from '../problem.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  // no/odd header compares the hash of '' (never the token: API_TOKEN has a minimum length)
  return timingSafeEqual(digest(m?.[1] ?? ''), expected);
}

/** Register inside the /api scope: every route there requires the token. */
export function requireBearer(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (req, reply) => {
    if (tokenMatches(req.headers.authorization, expected)) return;
    void reply.header('www-authenticate', 'Bearer realm="watchlist-api"');
    return sendProblem(reply, req, new ApiProblem(401, 'missing or invalid bearer token (Authorization: Bearer <API_TOKEN>)'));
  });
}
