// GET /admin/export: the whole directory as NDJSON (one account a line, in username order,
// from one snapshot), written as it is read, in chunks, through the same writer as `mailconf export`:
// what POST /admin/import?replace=true takes back unchanged.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { exportChunks } from '../../../accounts/formats/index.js';
import { ADMIN_EXPORT_PATH } from '../../../links.js';
import type { AdminContext } from '../../admin/context.js';
import { directoryCall } from '../../admin/directory-call.js';
import { methodNotAllowedProblem } from '../../admin/problem.js';
import { GATE_RESPONSES } from '../../admin/schemas.js';
import { NDJSON_TYPES } from '../../admin/streamed-body.js';
import { refuseOtherMethods } from '../../send.js';

/** `first`, then the rest of `chunks`. */
async function* resumed(first: IteratorResult<string>, chunks: AsyncIterator<string>): AsyncGenerator<string> {
  for (let next = first; !next.done; next = await chunks.next()) yield next.value;
}

export async function adminExportRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.get(
    ADMIN_EXPORT_PATH,
    {
      schema: {
        summary: 'The whole directory as NDJSON, one account a line (username order), streamed',
        response: { ...GATE_RESPONSES, 200: { description: 'NDJSON: one account object a line', content: { [NDJSON_TYPES[0]]: { schema: { type: 'string' } } } } },
      },
    },
    async (request, reply) => {
      reply.type(`${NDJSON_TYPES[0]}; charset=utf-8`).header('cache-control', 'no-store');
      // HEAD: the headers only, without reading the directory.
      if (request.method === 'HEAD') return reply.send();
      const chunks = exportChunks('ndjson', ctx.directory.exportAccounts());
      // The first chunk is read before the status is sent: a directory that does not answer is a 503, not a 200 cut short.
      const first = await directoryCall(request, () => chunks.next());
      return reply.send(Readable.from(resumed(first, chunks)));
    },
  );
  refuseOtherMethods(app, ADMIN_EXPORT_PATH, ['GET'], methodNotAllowedProblem);
}
