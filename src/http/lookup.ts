// The endpoints' one call into the pipeline: run it for a request to its answer, note what
// was asked for the request's log line and the metrics, and log the outcomes an operator
// must act on.
import type { FastifyRequest } from 'fastify';
import type { Answer } from '../dialects/answer.js';
import type { MailTarget } from '../model/address.js';
import { answerFor } from '../pipeline/answer-cache.js';
import type { Resolution } from '../pipeline/lookup.js';
import type { AppContext } from './context.js';
import { noteLogTarget } from './plugins/access-log.js';
import { AnswerInstead } from './send.js';

/**
 * The answer to `request` about `target`: `render` is the dialect's, and `variant` names
 * the dialect and every other request input `render` reads (pipeline/answer-cache.ts).
 */
export async function answerRequest(
  ctx: AppContext,
  request: FastifyRequest,
  target: MailTarget,
  variant: readonly string[],
  render: (resolution: Resolution) => Answer | Promise<Answer>,
): Promise<Answer> {
  noteLogTarget(request, target, ctx.logHash);
  const started = performance.now();
  const { resolution, answer } = await answerFor(target, ctx.directory, ctx.profile, ctx.answers, variant, render);
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
  return answer;
}
