// The admin API under /admin/, for the provider's own systems: registered only when a token
// is configured (else every /admin/ path is the plain 404 of any unknown path). Its routes
// live in one encapsulated scope with the gate (gate.ts) in front, problem+json for every
// error (RFC 9457), its own body parsers, and the OpenAPI 3 description @fastify/swagger
// makes from their schemas. Those schemas describe; they do not validate: the one
// validator of accounts is accounts/'s, which names every problem where it is (ajv would
// coerce and strip fields before it could say "did you mean").
import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ImportRejectedError } from '../../directory/directory.js';
import { ADMIN_PREFIX } from '../../links.js';
import type { AppContext } from '../context.js';
import { adminAccountRoutes } from '../routes/admin/account.js';
import { adminDomainRoutes } from '../routes/admin/domain.js';
import { adminExportRoutes } from '../routes/admin/export.js';
import { adminImportRoutes } from '../routes/admin/import.js';
import { adminOpenapiRoutes } from '../routes/admin/openapi.js';
import { sendAnswer } from '../send.js';
import type { AdminContext } from './context.js';
import { adminGate } from './gate.js';
import { AdminProblem, importProblems, problemAnswer, titleOf } from './problem.js';
import { problemSchema } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An admin route's body types, for its 415 (the admin error handler). */
    adminAccepts?: string;
  }
}

const NO_SUCH_PATH = problemAnswer(404, 'There is no such admin path: /admin/openapi.json lists them');

/** Every admin endpoint; a new one is one more line here. */
const ADMIN_ROUTES = [adminAccountRoutes, adminDomainRoutes, adminImportRoutes, adminExportRoutes, adminOpenapiRoutes] as const;

/** The admin error handler's words for Fastify's body errors (the status is Fastify's). */
const BODY_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The body is larger than this endpoint takes',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The body is not as long as its Content-Length says',
};

function adminError(err: FastifyError | AdminProblem | ImportRejectedError, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof AdminProblem) return sendAnswer(reply, err.answer);
  if (err instanceof ImportRejectedError) return sendAnswer(reply, importProblems(err.problems, 'in the import'));
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) {
    request.log.error({ err }, 'admin API: unexpected error');
    return sendAnswer(reply, problemAnswer(500, 'Internal error: nothing was changed; the service log says more'));
  }
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const accepts = request.routeOptions.config.adminAccepts;
    return sendAnswer(reply, problemAnswer(415, accepts ? `This endpoint takes ${accepts}` : 'This endpoint takes no body'));
  }
  // Fastify's own messages quote the request: ours name what is wrong, not what was sent.
  return sendAnswer(reply, problemAnswer(status, BODY_ERRORS[err.code] ?? titleOf(status)));
}

/** Registers the admin API when ADMIN_TOKEN or ADMIN_TOKENS_FILE is set. */
export async function adminApi(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const settings = ctx.config.admin;
  if (!settings) return;
  const admin: AdminContext = { directory: ctx.directoryAdmin, profile: ctx.profile, metrics: ctx.metrics, settings };
  const gate = adminGate(ctx.config, settings, app.clientBudget('admin', settings.rateLimitMax));
  await app.register(async (scope) => {
    await scope.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'mailconf admin API',
          version: '1',
          description: "Keeps the account directory in step with the provider's own systems. Every change is one transaction, heard by every instance's cache.",
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, or a token of ADMIN_TOKENS_FILE (RFC 6750)' } },
        },
        security: [{ bearer: [] }],
      },
      // Shared schemas (the Problem) by their $id in components, not `def-0`.
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    scope.addSchema(problemSchema);
    scope.setValidatorCompiler(() => () => true);
    scope.setErrorHandler(adminError);
    // Each route adds the body types it takes: any other is a 415.
    scope.removeAllContentTypeParsers();
    scope.decorateRequest('adminHolder', null);
    // Customers' limit does not count admin requests on the API's own names: they have
    // their own budget, counted by the gate. On any other name the request is what it
    // looks like, a request for an unknown path, and counts as one.
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, rateLimitExempt: gate.onAdminHost };
    });
    scope.addHook('onRequest', gate.hook);
    // Each in a scope of its own: a route's body parsers are its own.
    for (const routes of ADMIN_ROUTES) await scope.register(async (route) => routes(route, admin));
    // Any other path under /admin/, past the gate: a problem too (the gate answers the plain
    // 404 on a customer's name before this is reached). Answered before any body is read,
    // so no Content-Type makes it a 415.
    scope.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: `${ADMIN_PREFIX}/*`,
      schema: { hide: true },
      onRequest: async (_request, reply) => sendAnswer(reply, NO_SUCH_PATH),
      handler: async () => undefined,
    });
  });
}
