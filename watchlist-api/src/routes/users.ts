// /api/accounts (admins: create, list, change role, disable, issue and revoke tokens) and /api/account (anyone:
// who am I, rotate my own token). docs/USERS.md. Not /api/users nor /api/user: those are Grafana's own API,
// which nginx routes to Grafana.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { GRAFANA_ROLE } from '../auth/identity.js';
import { ApiProblem, sendProblem } from '../problem.js';
import { page, Pagination, problems } from '../schemas.js';
import { IssuedToken, Me, TokenCreate, TokenInfo, TokenParams, User, UserCreate, UserCreated, UserParams, UserPatch } from '../schemas-users.js';

const security = [{ bearerAuth: [] }];

export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['users'];
  const errors = problems(400, 401, 403, 404, 503);
  app.addHook('preHandler', async (req, reply) => {
    if (req.actor.role !== 'admin') return sendProblem(reply, req, new ApiProblem(403, `${req.actor.name} is not an admin: accounts are managed by admins`));
  });

  app.get('/accounts', {
    schema: { tags, security, summary: 'List users with their tokens (never the tokens themselves)', querystring: Pagination, response: { 200: page(User), ...errors } },
    handler: async (req) => ({ ...(await app.users.list(req.query.limit, req.query.offset)), limit: req.query.limit, offset: req.query.offset }),
  });

  app.post('/accounts', {
    schema: { tags, security, summary: 'Create a user and its first token (shown once)', body: UserCreate, response: { 201: UserCreated, ...problems(409), ...errors } },
    handler: async (req, reply) => reply.code(201).send(await app.users.create(req.body)),
  });

  app.get('/accounts/:id', {
    schema: { tags, security, summary: 'One user', params: UserParams, response: { 200: User, ...errors } },
    handler: async (req) => app.users.get(req.params.id),
  });

  app.patch('/accounts/:id', {
    schema: { tags, security, summary: 'Change a user’s role, disable or re-enable it (takes effect on its next request)', params: UserParams, body: UserPatch, response: { 200: User, ...problems(409), ...errors } },
    handler: async (req) => app.users.patch(req.params.id, req.body),
  });

  app.post('/accounts/:id/tokens', {
    schema: { tags, security, summary: 'Issue another token for a user (shown once)', params: UserParams, body: TokenCreate.nullish(), response: { 201: IssuedToken, ...errors } },
    handler: async (req, reply) => reply.code(201).send(await app.users.issueToken(req.params.id, req.body?.label ?? null)),
  });

  app.delete('/accounts/:id/tokens/:tokenId', {
    schema: { tags, security, summary: 'Revoke a token: refused from the next request on, with the sessions opened with it', params: TokenParams, response: { 200: TokenInfo, ...errors } },
    handler: async (req) => app.users.revokeToken(req.params.id, req.params.tokenId),
  });
};

export const meRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['users'];
  app.get('/account', {
    schema: { tags, security, summary: 'Who this token is', response: { 200: Me, ...problems(400, 401, 503) } },
    handler: async (req) => ({ id: req.actor.id, name: req.actor.name, role: req.actor.role, grafana_role: GRAFANA_ROLE[req.actor.role], token_id: req.actor.tokenId }),
  });

  app.post('/account/token/rotate', {
    schema: {
      tags,
      security,
      summary: 'Replace the token of this request by a new one (shown once); the old one is refused from now on',
      body: TokenCreate.nullish(),
      response: { 201: IssuedToken, ...problems(400, 401, 409, 503) },
    },
    handler: async (req, reply) => reply.code(201).send(await app.users.rotate(req.actor, req.body?.label)),
  });
};
