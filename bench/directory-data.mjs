// The deterministic accounts file behind `npm run bench:directory`: an import file (the JSON
// `mailconf import` reads) with exactly `domains` domains, the same bytes for the same seed
// and size on every run, written as it is generated (in chunks of about 1 MB) so that the
// bench process never holds the file or all of its accounts in memory.
//
// Shape: accounts in username order, each with 1-7 domains (4 on average; the last one may
// have fewer, so the total is exact). Even-numbered accounts are old-era (created 1998-2010,
// with a mail server number 1-400), odd-numbered ones new-era (created 2012-2024, half of
// them as RFC 3339 timestamps). About 30% of accounts have per-mailbox logins (1-2 mailboxes
// in their own domains), about 5% one for <username>@pair.com. Domain names start with random
// letters, so they land all over the index as real names do.
//
// While writing, it draws `probes` domains (about that many, uniformly, from a PRNG of its
// own) and returns them in a shuffled order, each with the address a client would ask about
// and the answer expected for it (host, login). With `probes` >= `domains`, every domain is
// a probe. With `keepDomains` it also returns every domain with its owner and the mailbox
// logins the data stores in it (for a small file: addressesOver() spreads many distinct
// addresses over those domains). Neither changes the file or the probes.
import { closeSync, openSync, writeSync } from 'node:fs';

/** Small deterministic PRNG (mulberry32): the same sequence for the same seed. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
export const word = (random, n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS[Math.floor(random() * 26)];
  return s;
};
const int = (random, lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const two = (n) => String(n).padStart(2, '0');
const LOCAL_PARTS = ['info', 'sales', 'office', 'support', 'billing', 'jane', 'contact'];

/** The hosts the default provider profile (pair.com) gives each era. */
export const hostOf = (account) =>
  account.mailServer ? `mail${account.mailServer}.pair.com` : `${account.username}.mail.pairserver.com`;

/**
 * Account `i` drawn from `random`, with `domainCount` domains. Old-era dates stay clear of
 * the 2011-06-01 cut-off, so no time zone question decides an era.
 */
function account(random, i, domainCount) {
  const username = `u${i.toString(36).padStart(5, '0')}`;
  const old = i % 2 === 0;
  const year = old ? int(random, 1998, 2010) : int(random, 2012, 2024);
  const date = `${year}-${two(int(random, 1, 12))}-${two(int(random, 1, 28))}`;
  const created = !old && random() < 0.5 ? `${date}T${two(int(random, 0, 23))}:${two(int(random, 0, 59))}:${two(int(random, 0, 59))}Z` : date;
  const domains = [];
  for (let k = 0; k < domainCount; k++) domains.push(`${word(random, 6)}-${i.toString(36)}-${k}.example`);
  const a = { username, created };
  if (old) a.mailServer = int(random, 1, 400);
  a.domains = domains;
  const mailboxes = [];
  if (random() < 0.3) {
    const first = int(random, 0, LOCAL_PARTS.length - 1);
    const count = int(random, 1, 2);
    for (let m = 0; m < count; m++) {
      const local = LOCAL_PARTS[(first + m) % LOCAL_PARTS.length];
      const domain = domains[int(random, 0, domains.length - 1)];
      mailboxes.push({ address: `${local}@${domain}`, login: `${username}-${local}` });
    }
  }
  if (random() < 0.05) mailboxes.push({ address: `${username}@pair.com`, login: `${username}-main` });
  if (mailboxes.length > 0) a.mailboxes = mailboxes;
  return a;
}

/**
 * Writes the import file for `domains` domains to `path`. Returns its counts, its size in
 * bytes, and the probes: { domain, address, username, host, login, stored } where `login` is
 * the login the answer must carry (the stored one when `stored`, else the address itself).
 */
export function writeAccountsFile(path, { domains, seed = 1, probes = 200_000, keepDomains = false }) {
  if (!Number.isSafeInteger(domains) || domains < 1) throw new Error('domains: a positive whole number');
  const random = prng(seed);
  const pickRandom = prng((seed ^ 0x9e3779b9) >>> 0);
  const rate = Math.min(1, probes / domains);
  const found = [];
  const kept = keepDomains ? [] : undefined; // { domain, username, host, mailboxes: [{ address, login }] }
  const fd = openSync(path, 'w');
  let bytes = 0;
  let chunk = '{"accounts":[\n';
  const flush = () => {
    bytes += writeSync(fd, chunk);
    chunk = '';
  };
  let written = 0;
  let accounts = 0;
  let mailboxes = 0;
  try {
    for (let i = 0; written < domains; i++) {
      const a = account(random, i, Math.min(int(random, 1, 7), domains - written));
      written += a.domains.length;
      accounts++;
      mailboxes += a.mailboxes?.length ?? 0;
      chunk += `${i === 0 ? '' : ',\n'}${JSON.stringify(a)}`;
      if (chunk.length >= 1 << 20) flush();
      const host = hostOf(a);
      if (kept) {
        for (const domain of a.domains) {
          const stored = (a.mailboxes ?? []).filter((x) => x.address.endsWith(`@${domain}`)).map(({ address, login }) => ({ address, login }));
          kept.push({ domain, username: a.username, host, mailboxes: stored });
        }
      }
      for (const domain of a.domains) {
        if (rate < 1 && pickRandom() >= rate) continue;
        // The address a client asks about: a stored mailbox in this domain when there is one.
        const m = a.mailboxes?.find((x) => x.address.endsWith(`@${domain}`));
        const address = m ? m.address : `${LOCAL_PARTS[Math.floor(pickRandom() * LOCAL_PARTS.length)]}@${domain}`;
        found.push({ domain, address, username: a.username, host, login: m ? m.login : address, stored: Boolean(m) });
      }
    }
    chunk += '\n]}\n';
    flush();
  } finally {
    closeSync(fd);
  }
  // Shuffled (Fisher-Yates): consecutive requests ask about unrelated accounts.
  for (let k = found.length - 1; k > 0; k--) {
    const j = Math.floor(pickRandom() * (k + 1));
    [found[k], found[j]] = [found[j], found[k]];
  }
  return { accounts, domains: written, mailboxes, bytes, probes: found, ...(kept ? { domainList: kept } : {}) };
}

/**
 * `count` distinct addresses spread over `domainList` (writeAccountsFile's, with
 * `keepDomains`), shuffled, as probes ({ domain, address, username, host, login, stored }).
 * Every mailbox the data stores in those domains is among them (while `count` allows) and
 * expects its stored login; every other address is `<word>.<n>@<domain>`, round-robin over
 * the domains (n counts up per domain), a local part the generator never stores (it has a
 * dot and a number), so its expected login is the address itself. A stored address is
 * never taken for another, whatever its shape: the data decides which logins are stored.
 */
export function addressesOver(domainList, count, seed = 1) {
  if (!Array.isArray(domainList) || domainList.length === 0) throw new Error('addressesOver: no domains');
  if (!Number.isSafeInteger(count) || count < 1) throw new Error('addressesOver: count must be a positive whole number');
  const random = prng((seed * 0x85ebca6b + 0x2545) >>> 0);
  const stored = new Map();
  for (const d of domainList) for (const m of d.mailboxes) stored.set(m.address, m.login);
  const out = [];
  const seen = new Set();
  const add = (d, address) => {
    if (seen.has(address)) return;
    seen.add(address);
    const login = stored.get(address);
    out.push({ domain: d.domain, address, username: d.username, host: d.host, login: login ?? address, stored: login !== undefined });
  };
  for (const d of domainList) for (const m of d.mailboxes) if (out.length < count) add(d, m.address);
  for (let n = 0; out.length < count; n++) {
    const d = domainList[n % domainList.length];
    const local = `${LOCAL_PARTS[Math.floor(random() * LOCAL_PARTS.length)]}.${Math.floor(n / domainList.length).toString(36)}`;
    add(d, `${local}@${d.domain}`);
  }
  for (let k = out.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [out[k], out[j]] = [out[j], out[k]];
  }
  return out;
}
