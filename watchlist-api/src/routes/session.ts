// Browser sign-in for the terminal (docs/USERS.md "One user, one login"): /auth/login opens a session with
// the user's API token (cookie mt_session), /auth/check is what nginx asks before every Grafana request
// (auth_request) — 200 with the user's name and Grafana role in headers, or 401 — and /l/<code> opens a
// saved layout in Grafana. These live outside /api: nginx routes them here, Grafana's /api stays Grafana's.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { cookieOf, GRAFANA_ROLE } from '../auth/identity.js';
import { SESSION_COOKIE, type Identities } from '../plugins/auth.js';
import { ApiProblem, sendProblem } from '../problem.js';
import { SESSION_TTL_S } from '../repos/users.js';
import { dashboardUrl } from '../repos/layouts.js';
import { problems } from '../schemas.js';
import { CodeIndexParams, CodeParams } from '../schemas-users.js';

/** Headers nginx hands to Grafana's auth proxy ([auth.proxy] header_name and headers = Role:…). */
export const USER_HEADER = 'x-webauth-user';
export const ROLE_HEADER = 'x-webauth-role';

/** Only a path on this site: no scheme, no `//host`, no control characters (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || [...next].some((c) => c <= ' ' || c === '\u007f')) return '/';
  return next;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function loginPage(next: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Market terminal — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font-family:system-ui,sans-serif;background:#111217;color:#ccccdc;display:grid;place-items:center;height:100vh;margin:0}
form{background:#181b1f;padding:2rem;border-radius:4px;min-width:22rem}input{width:100%;box-sizing:border-box;margin:.5rem 0 1rem;padding:.5rem;background:#0b0c0e;color:#ccccdc;border:1px solid #333}
button{padding:.5rem 1rem;background:#3d71d9;color:#fff;border:0;border-radius:2px}.e{color:#ff7383}</style></head>
<body><form method="post" action="/auth/login"><h1>Market terminal</h1>${error ? `<p class="e">${escapeHtml(error)}</p>` : ''}
<label for="token">Your API token</label><input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(next)}"><button type="submit">Sign in</button></form></body></html>`;
}

const redirect = (what: string) => z.undefined().describe(what);
const cookie = (value: string, maxAge: number) => `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=${maxAge}`;

const LoginBody = z.strictObject({
  token: z.string().min(1).max(300).describe('The user’s API token (or API_TOKEN for the built-in admin)'),
  next: z.string().max(4000).optional().describe('Where to go afterwards: a path on this site (default /)'),
});

export const sessionRoutes: FastifyPluginAsyncZod<{ ids: Identities }> = async (app, { ids }) => {
  const tags = ['sign-in'];
  const notReady = () => new ApiProblem(503, 'the database is not ready yet; retry shortly');
  // the login form posts application/x-www-form-urlencoded
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body.toString())));
  });

  app.get('/auth/login', {
    schema: {
      tags,
      summary: 'The sign-in page (nginx sends browsers without a session here, with ?next=<where they were going>)',
      response: { 200: { description: 'The sign-in form', content: { 'text/html': { schema: z.string() } } } },
    },
    handler: async (req, reply) => {
      // nginx appends the original URI raw (it has no URL-encoder): everything after `next=` is the target;
      // ingress-nginx (Kubernetes) sends it encoded ($escaped_request_uri): /… or %2F…
      const raw = req.raw.url ?? '';
      const at = raw.indexOf('?next=');
      let next = at >= 0 ? raw.slice(at + 6) : undefined;
      if (next && /^%2F/i.test(next)) {
        try {
          next = decodeURIComponent(next);
        } catch {
          next = undefined;
        }
      }
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(loginPage(safeNext(next)));
    },
  });

  app.post('/auth/login', {
    schema: { tags, summary: 'Open a session with an API token: sets the mt_session cookie and redirects (303) to next', body: LoginBody, response: { 303: redirect('Signed in: Set-Cookie mt_session, Location next'), ...problems(400, 503) } },
    handler: async (req, reply) => {
      if (!app.dbState.migrated) return sendProblem(reply, req, notReady());
      const next = safeNext(req.body.next);
      const form = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ?? false;
      const actor = await ids.fromBearer(`Bearer ${req.body.token}`);
      if (!actor) {
        req.log.info({ ip: req.ip }, 'sign-in refused');
        // the form gets the page again (HTML: no response schema for 401, so nothing re-serialises it)
        if (form) return (reply as FastifyReply).code(401).type('text/html; charset=utf-8').send(loginPage(next, 'Unknown, revoked or disabled token.'));
        return sendProblem(reply, req, new ApiProblem(401, 'unknown, revoked or disabled token'));
      }
      const secret = await app.users.openSession(actor, ids.adminTokenHash);
      req.log.info({ user: actor.name }, 'signed in');
      return reply.header('set-cookie', cookie(secret, SESSION_TTL_S)).redirect(next, 303);
    },
  });

  const logout = async (req: { headers: { cookie?: string | undefined } }, reply: FastifyReply) => {
    const secret = cookieOf(req.headers.cookie, SESSION_COOKIE);
    if (secret && secret.length <= 200) await app.users.closeSession(secret);
    return reply.header('set-cookie', cookie('', 0)).redirect('/auth/login', 303);
  };
  // a GET: Grafana's "Sign out" follows [auth] signout_redirect_url with a plain link
  app.get('/auth/logout', { schema: { tags, summary: 'End this session (also Grafana’s sign-out target)', response: { 303: redirect('Signed out: the cookie cleared, Location /auth/login') } } }, logout);

  app.get('/auth/check', {
    schema: { hide: true },
    handler: async (req, reply) => {
      const actor = await ids.fromCookie(req.headers.cookie);
      void reply.header('cache-control', 'no-store');
      if (!actor) return reply.code(401).send();
      return reply.code(204).header(USER_HEADER, actor.name).header(ROLE_HEADER, GRAFANA_ROLE[actor.role]).send();
    },
  });

  const open = async (req: FastifyRequest, reply: FastifyReply, code: string, n: number) => {
    if (!app.dbState.migrated) return sendProblem(reply, req, notReady());
    const actor = await ids.of(req);
    if (!actor) return reply.redirect(`/auth/login?next=${req.url}`, 302);
    const layout = await app.layouts.byCode(actor, code);
    if (n >= layout.dashboards.length) return sendProblem(reply, req, new ApiProblem(404, `layout ${code} has ${layout.dashboards.length} dashboard(s)`));
    return reply.redirect(dashboardUrl(layout, n), 302);
  };
  app.get('/l/:code', {
    schema: { tags: ['layouts'], summary: 'Open a layout: 302 to its first Grafana dashboard with its symbols, variables and time range', params: CodeParams, response: { 302: redirect('Location: the Grafana dashboard URL (or /auth/login without an identity)'), ...problems(400, 404, 503) } },
    handler: async (req, reply) => open(req, reply, req.params.code, 0),
  });
  app.get('/l/:code/:n', {
    schema: { tags: ['layouts'], summary: 'Open dashboard n (0-based) of a layout', params: CodeIndexParams, response: { 302: redirect('Location: the Grafana dashboard URL'), ...problems(400, 404, 503) } },
    handler: async (req, reply) => open(req, reply, req.params.code, req.params.n),
  });
};
