// Every error leaves as application/problem+json (RFC 9457): status, title, detail, and for
// validation the failing fields. Unknown errors become a 500 without internals; an unreachable
// database becomes a 503 with Retry-After so clients (and nginx) back off briefly.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { isDbUnavailable } from './db.js';
import type { Problem } from './schemas.js';

export type FieldError = NonNullable<Problem['errors']>[number];

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly errors?: FieldError[],
    readonly title = STATUS_CODES[status] ?? 'Error',
  ) {
    super(detail);
  }
}

export const notFound = (what: string, id: string) => new ApiProblem(404, `${what} ${id} does not exist`);
export const invalid = (errors: FieldError[]) => new ApiProblem(400, 'the request is invalid: see errors', errors);

export function sendProblem(reply: FastifyReply, req: FastifyRequest, p: ApiProblem): FastifyReply {
  const body: Problem = { type: 'about:blank', title: p.title, status: p.status, detail: p.message, instance: req.url };
  if (p.errors) body.errors = p.errors;
  return reply.code(p.status).type('application/problem+json').send(body);
}

/** Raw answer on the socket for requests node's parser refused: no route, no reply object, no token check. */
export function writeClientErrorProblem(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ type: 'about:blank', title, status, detail: status === 431 ? 'request headers are too large' : 'the request could not be parsed' });
  socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function toProblem(err: FastifyError, req: FastifyRequest): ApiProblem {
  if (err instanceof ApiProblem) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'body';
    const errors = err.validation.map((v): FieldError => {
      const field = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      // zod reports unknown keys on the parent object: name them so the client sees which field to drop
      const keys = (v.params as { keys?: unknown }).keys;
      if (v.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
        return { in: where, field: keys.map((k) => (field ? `${field}.${String(k)}` : String(k))).join(','), message: v.message ?? 'unknown field' };
      }
      return { in: where, field: field || '(root)', message: v.message ?? 'invalid' };
    });
    return invalid(errors);
  }
  if (isDbUnavailable(err)) return new ApiProblem(503, 'the database is unavailable; retry shortly');
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    // fastify's own client errors: malformed JSON, wrong content type, body too large...
    return new ApiProblem(err.statusCode, err.message);
  }
  req.log.error({ err }, 'unhandled error');
  return new ApiProblem(500, 'internal error');
}

/**
 * A body over the limit whose announced length is at most this is read and dropped after the 413, on a
 * connection kept open: fastify closes it otherwise, and a client still sending its body then gets a reset
 * instead of the answer (docs/API.md "Errors"). Longer ones are cut off as before.
 */
const DRAIN_OVERSIZED_BYTES = 8 * 1024 * 1024;

export const problemPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && Number(req.headers['content-length']) <= DRAIN_OVERSIZED_BYTES) reply.removeHeader('connection');
    const p = toProblem(err, req);
    if (p.status === 503) {
      req.log.warn({ err: err.message }, 'database unavailable');
      void reply.header('retry-after', '2');
    }
    return sendProblem(reply, req, p);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, req, new ApiProblem(404, `no route ${req.method} ${req.url.split('?')[0]}`)));
});
