// `mailconf pacc-check DOMAIN [--txt RECORD]...`: does a `_ua-auto-config` TXT record the
// resolver returns vouch for the PACC document we serve now (draft-ietf-mailmaint-pacc)?
// A client accepts the document only when its SHA-256 matches one of them, so a change of
// hosts or provider text is rolled out as: publish the new TXT beside the old, wait one TTL,
// switch the document, then drop the old TXT. No network: the records come from the
// command line or from `dig +short TXT _ua-auto-config.DOMAIN` on stdin.
import { text } from 'node:stream/consumers';
import { PACC_TTL_SECONDS, paccDigest, paccPublication, paccRecordDigest, paccTxtRecord } from '../../dialects/pacc.js';
import { PACC_TXT_LABEL } from '../../links.js';
import { normalizeDomain } from '../../model/address.js';
import { lookupOrFail, type Command } from '../context.js';
import { EXIT_OK, Failure, plural, quote, UsageError } from '../errors.js';

/**
 * A TXT record's text from one line as a resolver prints it: one or more quoted strings
 * (`"v=UAAC1; " "a=sha256; d=..."`), joined as a client joins them, with `\"`, `\\` and
 * `\DDD` read; a line without quotes is taken as the text itself.
 */
export function txtRecordText(line: string): string {
  const text = line.trim();
  if (!text.startsWith('"')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '"') {
      i++; // the space between strings
      continue;
    }
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && /^\d{3}/.test(text.slice(i + 1, i + 4))) {
        out += String.fromCharCode(Number(text.slice(i + 1, i + 4)));
        i += 4;
      } else if (text[i] === '\\' && i + 1 < text.length) {
        out += text[i + 1];
        i += 2;
      } else out += text[i++];
    }
    i++; // the closing quote
  }
  return out;
}

export const ROLL_OUT = [
  'To change the document (hosts, provider text) safely: publish the new',
  `TXT record beside the old one, wait one TTL (${PACC_TTL_SECONDS} s), switch the`,
  'document, then drop the old record. Before the switch, run',
  'pacc-check with the new --provider file (or a --directory holding',
  'the new data): one record must match.',
];

export const paccCheckCommand: Command = {
  name: 'pacc-check',
  usage: 'mailconf pacc-check DOMAIN [--txt RECORD]...',
  arguments: ['DOMAIN'],
  options: ['txt'],
  synopsis: 'pacc-check DOMAIN [--txt RECORD]...',
  description: [
    'Check that one of the _ua-auto-config TXT records of DOMAIN (given',
    'with --txt, or on stdin as `dig +short TXT _ua-auto-config.DOMAIN`',
    'prints them) carries the SHA-256 of the PACC document served now;',
    'exit 1 when none does, or when no document is served for DOMAIN.',
    ...ROLL_OUT,
  ],

  async run(inv, ctx) {
    const arg = inv.positionals[0]!;
    const domain = arg.includes('@') ? undefined : normalizeDomain(arg);
    if (!domain) throw new UsageError(`${quote(arg)} is not a domain name (give the customer's domain, e.g. her-shop.example)`);
    let lines = inv.txt;
    if (lines.length === 0) {
      if (!ctx.io.stdin) throw new UsageError(`pacc-check: give --txt RECORD, or pipe in \`dig +short TXT ${PACC_TXT_LABEL}.${domain}\``);
      lines = (await text(ctx.io.stdin())).split(/\r?\n/).filter((l) => l.trim() !== '');
    }
    const records = lines.map(txtRecordText);
    if (records.length === 0) throw new Failure(`no TXT records given for ${PACC_TXT_LABEL}.${domain}: a client would accept no document`);
    const answer = await lookupOrFail(ctx, { domain }, `no PACC document for ${domain}`);
    const publication = paccPublication(answer);
    if (!publication.published) {
      const stale = records.length > 0 ? `; remove its ${PACC_TXT_LABEL} TXT records and ua-auto-config CNAME` : '';
      throw new Failure(`no PACC document is served for ${domain}: ${publication.reason}${stale}`);
    }
    const served = paccDigest(publication.body);
    const out: string[] = [`${domain}: the document served now has SHA-256 ${served}`];
    let matches = 0;
    for (const record of records) {
      const digest = paccRecordDigest(record);
      const verdict = digest === undefined ? 'not a PACC integrity record' : digest === served ? 'matches' : 'another document (an old or a coming one)';
      if (digest === served) matches++;
      out.push(`  ${quote(record)}: ${verdict}`);
    }
    ctx.io.stdout(`${out.join('\n')}\n`);
    if (matches === 0) {
      throw new Failure(
        `none of ${plural(records.length, 'record')} matches the document served now: publish ${PACC_TXT_LABEL}.${domain}. TXT "${paccTxtRecord(served)}" beside them, and keep it one TTL before the document changes`,
      );
    }
    if (records.length > matches) ctx.io.stdout(`a change is under way: drop the other records one TTL (${PACC_TTL_SECONDS} s) after the switch\n`);
    return EXIT_OK;
  },
};
