// /api/layouts: a user's saved terminal layouts (docs/USERS.md "Layouts"), opened with /l/<code>.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdParams, page, Pagination, problems } from '../schemas.js';
import { Layout, LayoutCreate, LayoutPatch } from '../schemas-users.js';

const errors = problems(400, 401, 403, 404, 503);

export const layoutRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['layouts'];
  const security = [{ bearerAuth: [] }];

  app.get('/layouts', {
    schema: { tags, security, summary: 'My layouts and the shared ones (limit/offset pagination)', querystring: Pagination, response: { 200: page(Layout), ...errors } },
    handler: async (req) => ({ ...(await app.layouts.list(req.actor, req.query.limit, req.query.offset)), limit: req.query.limit, offset: req.query.offset }),
  });

  app.post('/layouts', {
    schema: { tags, security, summary: 'Save a layout; the answer carries its short link', body: LayoutCreate, response: { 201: Layout, ...problems(422), ...errors } },
    handler: async (req, reply) => reply.code(201).send(await app.layouts.create(req.actor, req.body)),
  });

  app.get('/layouts/:id', {
    schema: { tags, security, summary: 'One layout with its Grafana links', params: IdParams, response: { 200: Layout, ...errors } },
    handler: async (req) => app.layouts.get(req.actor, req.params.id),
  });

  app.patch('/layouts/:id', {
    schema: { tags, security, summary: 'Change fields of a layout (its code stays)', params: IdParams, body: LayoutPatch, response: { 200: Layout, ...errors } },
    handler: async (req) => app.layouts.patch(req.actor, req.params.id, req.body),
  });

  app.delete('/layouts/:id', {
    schema: { tags, security, summary: 'Delete a layout (its short link stops working)', params: IdParams, response: { 204: z.undefined(), ...errors } },
    handler: async (req, reply) => {
      await app.layouts.delete(req.actor, req.params.id);
      return reply.code(204).send();
    },
  });
};
