// /api/watchlists and their items.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdParams, Item, ItemInput, ItemParams, page, Pagination, problems, Watchlist, WatchlistCreate, WatchlistPatch } from '../schemas.js';

const errors = problems(400, 401, 403, 404, 503);

export const watchlistRoutes: FastifyPluginAsyncZod = async (app) => {
  const tags = ['watchlists'];
  const security = [{ bearerAuth: [] }];

  app.get('/watchlists', {
    schema: { tags, security, summary: 'List watchlists with their items (limit/offset pagination)', querystring: Pagination, response: { 200: page(Watchlist), ...errors } },
    handler: async (req) => ({ ...(await app.watchlists.list(req.actor, req.query.limit, req.query.offset)), limit: req.query.limit, offset: req.query.offset }),
  });

  app.post('/watchlists', {
    schema: { tags, security, summary: 'Create a watchlist, optionally with items', body: WatchlistCreate, response: { 201: Watchlist, ...problems(422), ...errors } },
    handler: async (req, reply) => reply.code(201).send(await app.watchlists.create(req.actor, req.body)),
  });

  app.get('/watchlists/:id', {
    schema: { tags, security, summary: 'One watchlist with its items', params: IdParams, response: { 200: Watchlist, ...errors } },
    handler: async (req) => app.watchlists.get(req.actor, req.params.id),
  });

  app.patch('/watchlists/:id', {
    schema: { tags, security, summary: 'Rename or re-describe a watchlist', params: IdParams, body: WatchlistPatch, response: { 200: Watchlist, ...errors } },
    handler: async (req) => app.watchlists.patch(req.actor, req.params.id, req.body),
  });

  app.delete('/watchlists/:id', {
    schema: { tags, security, summary: 'Delete a watchlist and its items', params: IdParams, response: { 204: z.undefined(), ...errors } },
    handler: async (req, reply) => {
      await app.watchlists.delete(req.actor, req.params.id);
      return reply.code(204).send();
    },
  });

  app.post('/watchlists/:id/items', {
    schema: {
      tags,
      security,
      summary: 'Add an instrument; the feeders start collecting it within a second',
      params: IdParams,
      body: ItemInput,
      response: { 201: Item, ...problems(409, 422), ...errors },
    },
    handler: async (req, reply) => reply.code(201).send(await app.watchlists.addItem(req.actor, req.params.id, req.body)),
  });

  app.delete('/watchlists/:id/items/:itemId', {
    schema: { tags, security, summary: 'Remove an instrument from a watchlist', params: ItemParams, response: { 204: z.undefined(), ...errors } },
    handler: async (req, reply) => {
      await app.watchlists.deleteItem(req.actor, req.params.id, req.params.itemId);
      return reply.code(204).send();
    },
  });
};
