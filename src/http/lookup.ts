// The endpoints' one call into the pipeline: run it for a request, note what was asked
// for the request's log line and the metrics, and log the outcomes an operator must act on.
import type { FastifyRequest } from 'fastify';
import type { MailTarget } from '../model/address.js';
import { lookupSettings, type Resolution } from '../pipeline.js';
import type { AppContext } from './context.js';
import { noteLogTarget } from './plugins/access-log.js';
import { AnswerInstead } from './send.js';

export async function lookupFor(ctx: AppContext, request: FastifyRequest, target: MailTarget): Promise<Resolution> {
  noteLogTarget(request, target, ctx.secret);
  const started = performance.now();
  const resolution = await lookupSettings(target, ctx.directory, ctx.profile);
  ctx.metrics.observeLookup(request, resolution, (performance.now() - started) / 1000);
  if (resolution.kind === 'unknown-domain') {
    // Scanners miss far more often than clients: past the miss budget, a 429 instead.
    const refusal = await request.server.countMiss(request);
    if (refusal) throw new AnswerInstead(refusal);
  }
  if (resolution.kind === 'data-error') {
    const { username, kind, detail } = resolution.error;
    request.log.error({ account: username, dataError: kind }, `account ${username}: ${detail}`);
  } else if (resolution.kind === 'unavailable') {
    request.log.error({ err: resolution.cause }, 'directory unavailable');
  }
  return resolution;
}
