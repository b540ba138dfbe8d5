// `/tls-allowed?domain=<name>`: may an on-demand TLS terminator (Caddy's `ask`) get a
// certificate for this name? Yes (200) for `autoconfig.` and `autodiscover.` of a hosted
// domain and for the service's own names; no (404) for anything else, so that a name
// pointed at us by a stranger costs no certificate. `ua-auto-config.` (PACC) only where a
// document is published for the domain: a certificate for a name that then 404s is waste.
// The terminator reads only the status.
import { isServiceHost, PACC_LABEL, SERVICE_LABELS } from '../links.js';
import { normalizeDomain } from '../model/address.js';
import type { Resolution } from '../pipeline/lookup.js';
import { textAnswer, textFailure, type Answer } from './answer.js';
import { paccPublication } from './pacc.js';

const YES = textAnswer(200, 'Certificate allowed');
const NO = textAnswer(404, 'No certificate for this name');

/** `pacc`: the name asked is `ua-auto-config.<domain>`, whose answer depends on the PACC document. */
export type TlsAllowedRead = { ok: true; domain: string; pacc: boolean } | { ok: false; answer: Answer };

/** The customer domain whose hosting decides, or the answer when the name alone decides. */
export function readTlsAllowedRequest(rawName: string | undefined, serviceHosts: readonly string[]): TlsAllowedRead {
  const name = rawName === undefined ? undefined : normalizeDomain(rawName);
  if (!name) return { ok: false, answer: NO };
  if (isServiceHost(serviceHosts, name)) return { ok: false, answer: YES };
  const label = [...SERVICE_LABELS, PACC_LABEL].find((l) => name.startsWith(`${l}.`));
  // normalizeDomain again: `autoconfig.example` leaves a one-label name, which is no domain.
  const domain = label ? normalizeDomain(name.slice(label.length + 1)) : undefined;
  return domain ? { ok: true, domain, pacc: label === PACC_LABEL } : { ok: false, answer: NO };
}

/** For `ua-auto-config.<domain>`: yes only when the domain publishes a PACC document. */
export function tlsAllowedPaccAnswer(resolution: Resolution): Answer {
  if (resolution.kind === 'unavailable') return textFailure(resolution.kind);
  return paccPublication(resolution).published ? YES : NO;
}

export function tlsAllowedAnswer(resolution: Resolution): Answer {
  switch (resolution.kind) {
    case 'settings':
    // Hosted, but the account's data gives no host: the name is still ours to answer on.
    case 'data-error':
    // An account-named domain (pair.com): the provider's own, served by us.
    case 'address-required':
      return YES;
    case 'unknown-domain':
      return NO;
    case 'unavailable':
      return textFailure(resolution.kind);
  }
}
