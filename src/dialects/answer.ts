// What a dialect hands back to the endpoint: the whole HTTP answer as data. For Outlook
// the status is part of the protocol (MS-OXDSCLI error 603 travels as 503), so the dialect
// and not the endpoint decides it. The endpoint only sends it.
import type { ResolutionKind } from '../pipeline/lookup.js';

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

/**
 * Sent with every answer: the Content-Type is the only reading of the body (WHATWG Fetch,
 * "X-Content-Type-Options"), so a browser never sniffs an XML, plist or text answer that
 * echoes what a client sent into HTML or script.
 */
export const NOSNIFF: Readonly<Record<string, string>> = Object.freeze({ 'x-content-type-options': 'nosniff' });

/**
 * Cache-Control for an answer built for one mailbox: it names the address or the login (a
 * stored login is the account's data), so no cache keeps it, not even the client's
 * (RFC 9111 section 5.2.2.5 no-store, 5.2.2.7 private).
 */
export const MAILBOX_PRIVATE: Readonly<Record<string, string>> = Object.freeze({ 'cache-control': 'private, no-store' });
/**
 * Cache-Control for the other answers to a request that names a mailbox (not found,
 * invalid, a pointer): they name nothing of the mailbox but still answer for one address,
 * so a shared cache must not hand them to anyone else (RFC 9111 section 5.2.2.7).
 */
export const PER_ADDRESS: Readonly<Record<string, string>> = Object.freeze({ 'cache-control': 'private' });

/** `answer` with `headers` added (later ones win). */
export function withHeaders(answer: Answer, ...headers: ReadonlyArray<Readonly<Record<string, string>>>): Answer {
  return { ...answer, headers: Object.assign({}, answer.headers, ...headers) };
}

/** An XML answer (autoconfig, POX). */
export function xmlAnswer(status: number, body: string, headers?: Readonly<Record<string, string>>): Answer {
  return { status, type: XML, headers: { ...NOSNIFF, ...headers }, body };
}

/** Seconds a client should wait before retrying when the directory is down (RFC 9110 section 10.2.3). */
export const RETRY_AFTER_SECONDS = 30;

/** The answer when the directory did not answer: 503 with Retry-After, whatever the dialect's body. */
export function unavailable(answer: Omit<Answer, 'status'>): Answer {
  return { ...answer, status: 503, headers: { ...answer.headers, 'retry-after': String(RETRY_AFTER_SECONDS) } };
}

/** A short plain-text answer, for people and for clients that only read the status. */
export function textAnswer(status: number, message: string): Answer {
  return { status, type: TEXT, headers: NOSNIFF, body: `${message}\n` };
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
  return withHeaders(textAnswer(405, 'Method not allowed'), { allow });
}
