// GET /admin/openapi.json: the admin API's OpenAPI 3 description, made by @fastify/swagger
// from the routes' schemas; behind the same gate as the routes it describes.
import type { FastifyInstance } from 'fastify';
import { ADMIN_OPENAPI_PATH } from '../../../links.js';
import type { AdminContext } from '../../admin/context.js';
import { methodNotAllowedProblem } from '../../admin/problem.js';
import { GATE_RESPONSES } from '../../admin/schemas.js';
import { refuseOtherMethods } from '../../send.js';

export async function adminOpenapiRoutes(app: FastifyInstance, _ctx: AdminContext): Promise<void> {
  app.get(
    ADMIN_OPENAPI_PATH,
    { schema: { summary: 'This description (OpenAPI 3)', response: { 200: { description: 'the OpenAPI document', type: 'object', additionalProperties: true }, ...GATE_RESPONSES } } },
    async (_request, reply) => reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
  refuseOtherMethods(app, ADMIN_OPENAPI_PATH, ['GET'], methodNotAllowedProblem);
}
