// What a dialect hands back to the endpoint: the whole HTTP answer as data. For Outlook
// the status is part of the protocol (MS-OXDSCLI error 603 travels as 503), so the dialect
// and not the endpoint decides it. The endpoint only sends it.
import type { ResolutionKind } from '../pipeline.js';

export interface Answer {
  status: number;
  /** The Content-Type. */
  type: string;
  headers?: Readonly<Record<string, string>>;
  body: string | Buffer;
}

export const TEXT = 'text/plain; charset=utf-8';
export const XML = 'text/xml; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';
export const HTML = 'text/html; charset=utf-8';

/** Seconds a client should wait before retrying when the directory is down (RFC 9110 section 10.2.3). */
export const RETRY_AFTER_SECONDS = 30;

/** The answer when the directory did not answer: 503 with Retry-After, whatever the dialect's body. */
export function unavailable(answer: Omit<Answer, 'status'>): Answer {
  return { ...answer, status: 503, headers: { ...answer.headers, 'retry-after': String(RETRY_AFTER_SECONDS) } };
}

/** A short plain-text answer, for people and for clients that only read the status. */
export function textAnswer(status: number, message: string): Answer {
  return { status, type: TEXT, body: `${message}\n` };
}

/**
 * The plain-text answer for a lookup that found no settings: 404 when nothing is published,
 * 500 for account data that gives no host (naming no internals), 503 + Retry-After when
 * the directory is down.
 */
export function textFailure(
  kind: Exclude<ResolutionKind, 'settings'>,
  notFound = 'No mail settings are published for this domain',
): Answer {
  switch (kind) {
    case 'unknown-domain':
    case 'address-required':
      return textAnswer(404, notFound);
    case 'data-error':
      return textAnswer(500, 'Mail settings for this address are unavailable; please contact support');
    case 'unavailable':
      return unavailable(textAnswer(503, 'Mail settings are temporarily unavailable; please try again shortly'));
  }
}

/** The text answer of every 405, with the methods the path does answer. */
export function methodNotAllowed(allow: string): Answer {
  return { ...textAnswer(405, 'Method not allowed'), headers: { allow } };
}
