// What we ask Thunderbird, in Marionette's chrome context: its own account-setup modules
// (mail/components/accountcreation/modules in comm-central, resource:///modules/
// accountcreation/ in the installed omni.ja), called the way Thunderbird 153's Account
// Hub calls them, and a plain summary of the AccountConfig each produced.
import type { Marionette } from './marionette.js';

export interface ServerReading {
  type: string | null;
  hostname: string | null;
  port: number | null;
  /** Ci.nsMsgSocketType name: plain, trySTARTTLS, alwaysSTARTTLS, SSL. */
  socketType: string;
  /** Ci.nsMsgAuthMethod name, e.g. passwordCleartext. */
  auth: string;
  /** After Thunderbird's placeholder substitution (AccountConfig.replaceVariables). */
  username: string | null;
  /** As the config file gave it, before substitution. */
  rawUsername: string | null;
}

export interface ConfigReading {
  source: string | null;
  subSource: string | null;
  id: string | null;
  complete: boolean;
  incoming: ServerReading;
  incomingAlternatives: ServerReading[];
  outgoing: ServerReading;
  outgoingAlternatives: ServerReading[];
}

export interface ErrorReading {
  message: string;
  name?: string;
  code?: number;
  url?: string;
  errors?: ErrorReading[];
}

/** A redirect Thunderbird asked the user to confirm (credentials to another domain). */
export interface Confirmation {
  host: string;
  scheme: string;
  accepted: boolean;
}

/** What one of Thunderbird's lookups came to: a config, or why there was none. */
export type ProbeResult = ({ config: ConfigReading | null; error?: undefined } | { config?: undefined; error: ErrorReading }) & {
  confirmations: Confirmation[];
};

export type Probe =
  /** One autoconfig URL, as FetchConfig's _fetchConfigFromIsp fetches and reads each. */
  | { kind: 'url'; url: string; email: string; source: 'isp-https' | 'isp-http' }
  /** FetchConfig.fromISP: the four ISP URLs in parallel, highest priority wins. */
  | { kind: 'isp'; domain: string; email: string }
  /**
   * ExchangeAutoDiscover's fetchConfigFromExchange: the Outlook POX reader. When it asks to
   * send the credentials to another domain, the user accepts `acceptRedirectTo` only.
   */
  | { kind: 'exchange'; domain: string; email: string; acceptRedirectTo?: string }
  /** FindConfig.parallelAutoDiscovery: the Account Hub's whole discovery (disk, ISP, ISPDB, MX, Exchange). */
  | { kind: 'hub'; domain: string; email: string };

const PRELUDE = String.raw`
  const M = (name) => ChromeUtils.importESModule("resource:///modules/accountcreation/" + name + ".sys.mjs");
  const { FetchConfig } = M("FetchConfig");
  const { fetchHTTP } = M("FetchHTTP");
  const { readFromXML } = M("readFromXML");
  const { AccountConfig } = M("AccountConfig");
  const { fetchConfigFromExchange } = M("ExchangeAutoDiscover");
  const { FindConfig } = M("FindConfig");
  const enumName = (iface, value) => {
    for (const key in iface) if (iface[key] === value && typeof value === "number") return key;
    return String(value);
  };
  const server = (s, raw) => ({
    type: s.type ?? null,
    hostname: s.hostname ?? null,
    port: s.port ?? null,
    socketType: enumName(Ci.nsMsgSocketType, s.socketType),
    auth: enumName(Ci.nsMsgAuthMethod, s.auth),
    username: s.username ?? null,
    rawUsername: raw ? raw.username ?? null : null,
  });
  // What the Account Hub shows: the config after AccountConfig.replaceVariables.
  const summary = (config, email) => {
    if (!config) return null;
    const filled = config.copy();
    AccountConfig.replaceVariables(filled, "Test User", email, "not-a-real-password");
    return {
      source: filled.source ?? null,
      subSource: filled.subSource ?? null,
      id: filled.id ?? null,
      complete: config.isComplete(),
      incoming: server(filled.incoming, config.incoming),
      incomingAlternatives: filled.incomingAlternatives.map((s, i) => server(s, config.incomingAlternatives[i])),
      outgoing: server(filled.outgoing, config.outgoing),
      outgoingAlternatives: filled.outgoingAlternatives.map((s, i) => server(s, config.outgoingAlternatives[i])),
    };
  };
  const describe = (e) => {
    if (e === null || e === undefined) return { message: String(e) };
    if (typeof e !== "object") return { message: String(e) };
    const out = { message: String(e.message ?? e), name: e.name };
    if (typeof e.code === "number") out.code = e.code;
    if (typeof e.url === "string") out.url = e.url;
    if (Array.isArray(e.errors)) out.errors = e.errors.map(describe);
    return out;
  };
`;

const RUN_ONE = String.raw`
  async function runOne(probe) {
    const confirmations = [];
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error("probe timed out")), 20000);
    try {
      let config;
      if (probe.kind === "url") {
        const xml = await fetchHTTP(probe.url, { urlArgs: { emailaddress: probe.email }, signal: abort.signal });
        config = readFromXML(xml, probe.source);
      } else if (probe.kind === "isp") {
        config = await FetchConfig.fromISP(probe.domain, probe.email, abort.signal);
      } else if (probe.kind === "exchange") {
        // What the user answers when Thunderbird asks to send the password to another domain.
        const confirm = async (host, scheme) => {
          const accepted = !!probe.acceptRedirectTo && host === probe.acceptRedirectTo;
          confirmations.push({ host, scheme, accepted });
          if (!accepted) throw new Error("the user refused to send credentials to " + host);
        };
        config = await fetchConfigFromExchange(probe.domain, probe.email, abort.signal, null, "not-a-real-password", confirm);
      } else if (probe.kind === "hub") {
        const discovery = FindConfig.parallelAutoDiscovery(probe.domain, probe.email, abort.signal, "not-a-real-password", null);
        const step = await discovery.next();
        if (!step.done) {
          // A request to confirm sending credentials to another host: refused.
          confirmations.push({ host: step.value.host, scheme: step.value.scheme, accepted: false });
          await discovery.return(null);
          throw new Error("discovery asked to confirm a redirect to " + step.value.host);
        }
        config = step.value;
      } else {
        throw new Error("unknown probe " + probe.kind);
      }
      return { config: summary(config, probe.email), confirmations };
    } catch (e) {
      return { error: describe(e), confirmations };
    } finally {
      clearTimeout(timer);
    }
  }
`;

export async function runProbe(marionette: Marionette, probe: Probe): Promise<ProbeResult> {
  return marionette.run<ProbeResult>(PRELUDE + RUN_ONE + 'return runOne(arguments[0]);', [probe]);
}

/** Several lookups at once, as Thunderbird runs them side by side. */
export async function runProbes(marionette: Marionette, probes: Probe[]): Promise<ProbeResult[]> {
  return marionette.run<ProbeResult[]>(PRELUDE + RUN_ONE + 'return Promise.all(arguments[0].map(runOne));', [probes]);
}

/** Trusts `caBase64` (DER) for TLS servers in this profile's NSS database ("C,,"). */
export async function trustCa(marionette: Marionette, caBase64: string): Promise<void> {
  await marionette.run<null>(
    String.raw`
      const certdb = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
      certdb.addCertFromBase64(arguments[0], "C,,");
      return null;`,
    [caBase64],
  );
}

/** Preferences as Thunderbird holds them, to confirm it read our user.js. */
export async function readPrefs(marionette: Marionette, names: string[]): Promise<Record<string, unknown>> {
  return marionette.run<Record<string, unknown>>(
    String.raw`
      const out = {};
      for (const name of arguments[0]) {
        const type = Services.prefs.getPrefType(name);
        out[name] = type === Services.prefs.PREF_STRING ? Services.prefs.getStringPref(name)
          : type === Services.prefs.PREF_INT ? Services.prefs.getIntPref(name)
          : type === Services.prefs.PREF_BOOL ? Services.prefs.getBoolPref(name) : null;
      }
      return out;`,
    [names],
  );
}

export async function appInfo(marionette: Marionette): Promise<{ name: string; version: string; pid: number }> {
  return marionette.run(String.raw`
    return { name: Services.appinfo.name, version: Services.appinfo.version, pid: Services.appinfo.processID };`);
}
