// Autodiscover v2 for new Outlook and Outlook mobile: `autodiscover.json?Email=<address>
// &Protocol=AutodiscoverV1`, or `autodiscover.json/v1.0/<address>?Protocol=...`. It only
// says where the v1 (POX) endpoint is: ours, at PUBLIC_URL. The address is looked up so
// that only hosted domains get a pointer; it is never used to build a URL or to contact
// anything (these paths are ProxyShell scanners' favourite target, CVE-2021-34473).
import { parseAddress, type MailTarget } from '../model/address.js';
import type { Resolution } from '../pipeline/lookup.js';
import { JSON_TYPE, NOSNIFF, PER_ADDRESS, unavailable, type Answer } from './answer.js';

export const SUPPORTED_PROTOCOL = 'AutodiscoverV1';

interface JsonError {
  status: 400 | 404 | 500 | 503;
  code: string;
  message: string;
}

const INVALID_REQUEST: JsonError = { status: 400, code: 'InvalidRequest', message: 'This is not an autodiscover request.' };
const NO_ADDRESS: JsonError = { status: 400, code: 'InvalidRequest', message: 'An email address is required.' };
const BAD_ADDRESS: JsonError = { status: 400, code: 'InvalidRequest', message: 'The email address is not valid.' };

/** Echoed protocol values are cut short: the answer should not carry whatever a scanner sends. */
const MAX_ECHO = 64;

function invalidProtocol(given: string): JsonError {
  const shown = given.length > MAX_ECHO ? `${given.slice(0, MAX_ECHO)}...` : given;
  return {
    status: 400,
    code: 'InvalidProtocol',
    message: `The given protocol value '${shown}' is invalid. Supported values are '${SUPPORTED_PROTOCOL}'`,
  };
}

/**
 * Request shapes no mail client sends, all from ProxyShell-style probes: a query parameter
 * named like a path or address (`?@foo.com/owa/`), or an address carrying URL syntax
 * (`Email=autodiscover/autodiscover.json?@foo.com`). They get a 400, never a lookup.
 */
function isProbe(query: Readonly<Record<string, string>>, address: string | undefined): boolean {
  return Object.keys(query).some((name) => /[@/\\]/.test(name)) || (address !== undefined && /[/?#\\]/.test(address));
}

/** The address in `v1.0/<address>` (null for any other path below autodiscover.json). */
function addressFromPath(rest: string): string | null {
  const match = /^v1\.0\/([^/]*)$/i.exec(rest);
  return match ? match[1]! : null;
}

// Every request names an address, and no answer names its login: private, not no-store.
const json = (status: number, body: unknown): Answer => ({
  status,
  type: JSON_TYPE,
  headers: { ...NOSNIFF, ...PER_ADDRESS },
  body: JSON.stringify(body),
});
const fail = (e: JsonError) => json(e.status, { ErrorCode: e.code, ErrorMessage: e.message });

export type JsonRead = { ok: true; target: MailTarget } | { ok: false; answer: Answer };

/**
 * The target of a request: `query` holds its parameters by lower-case name, `pathRest`
 * what follows `autodiscover.json/` (undefined for the query form).
 */
export function readAutodiscoverJsonRequest(query: Readonly<Record<string, string>>, pathRest?: string): JsonRead {
  let raw: string | undefined;
  if (pathRest === undefined) raw = query.email;
  else {
    const fromPath = addressFromPath(pathRest);
    if (fromPath === null) return { ok: false, answer: fail(INVALID_REQUEST) };
    raw = fromPath;
  }
  if (isProbe(query, raw)) return { ok: false, answer: fail(INVALID_REQUEST) };
  const protocol = query.protocol ?? '';
  if (protocol.toLowerCase() !== SUPPORTED_PROTOCOL.toLowerCase()) return { ok: false, answer: fail(invalidProtocol(protocol)) };
  if (raw === undefined || raw.trim() === '') return { ok: false, answer: fail(NO_ADDRESS) };
  const address = parseAddress(raw);
  if (!address) return { ok: false, answer: fail(BAD_ADDRESS) };
  return { ok: true, target: { domain: address.domain, address } };
}

export interface AutodiscoverJsonDialect {
  answer(resolution: Resolution): Answer;
}

/** `poxUrl`: the public URL of our POX endpoint, the only URL this dialect ever names. */
export function autodiscoverJsonDialect(poxUrl: string): AutodiscoverJsonDialect {
  const pointer = json(200, { Protocol: SUPPORTED_PROTOCOL, Url: poxUrl });
  return {
    answer(resolution) {
      switch (resolution.kind) {
        case 'settings':
          return pointer;
        case 'unknown-domain':
        case 'address-required':
          return fail({ status: 404, code: 'NotFound', message: 'No mail settings are published for this address.' });
        case 'data-error':
          return fail({ status: 500, code: 'InternalServerError', message: 'Mail settings for this address are unavailable; please contact support.' });
        case 'unavailable':
          return unavailable(fail({ status: 503, code: 'ServiceUnavailable', message: 'Mail settings are temporarily unavailable; please try again shortly.' }));
      }
    },
  };
}
