// The admin API's JSON Schemas, for its OpenAPI description (@fastify/swagger) and for
// serialising its answers; requests are checked by the accounts validator, not by these.
// The account is the import format's: what GET answers is what PUT and import take.

export const accountSchema = {
  type: 'object',
  description: 'An account with its domains and stored mailbox logins, as every import format carries it',
  required: ['username', 'created'],
  additionalProperties: false,
  properties: {
    username: { type: 'string', description: 'the hosting account, 1-64 characters without spaces, control characters or "%"; stored lower-case' },
    created: { type: 'string', description: 'YYYY-MM-DD or an RFC 3339 timestamp: decides the account era' },
    mailServer: { type: ['integer', 'null'], minimum: 1, description: "the old-era account's mail server number" },
    domains: { type: 'array', items: { type: 'string' }, description: 'the domains the account hosts mail for' },
    mailboxes: {
      type: 'array',
      description: 'mailboxes whose login is stored rather than derived',
      items: {
        type: 'object',
        required: ['address', 'login'],
        additionalProperties: false,
        properties: { address: { type: 'string' }, login: { type: 'string' } },
      },
    },
  },
} as const;

const counts = (names: readonly string[]) =>
  ({ type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, { type: 'integer', minimum: 0 }])) }) as const;

export const importReportSchema = {
  type: 'object',
  description: 'What an import changed (or, dry, would change), counted against the directory before it; the report `mailconf import` prints',
  required: ['dryRun', 'accounts', 'domains', 'mailboxes', 'written'],
  properties: {
    dryRun: { type: 'boolean' },
    accounts: counts(['added', 'changed', 'unchanged', 'removed']),
    domains: counts(['added', 'removed', 'moved']),
    mailboxes: counts(['added', 'changed', 'removed']),
    written: counts(['accounts', 'domains', 'mailboxes']),
  },
} as const;

/** RFC 9457 problem details, with every problem of refused data: one shared schema (`Problem`), referred to by every route. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', const: 'about:blank' },
    title: { type: 'string', description: "the status's phrase (RFC 9110)" },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      description: 'each problem with the data: `pointer` (RFC 6901) into the JSON body, or `position` in an import stream (`line 7`, `line 7, domains[0]`)',
      items: {
        type: 'object',
        required: ['detail'],
        properties: { pointer: { type: 'string' }, position: { type: 'string' }, detail: { type: 'string' } },
      },
    },
  },
} as const;

/** A problem answer in a route's `response`: what it means, and the problem schema. */
export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } }) as const;

export const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', description: 'the hosting account (any case)' } },
} as const;

export const domainParams = {
  type: 'object',
  required: ['domain'],
  properties: { domain: { type: 'string', description: 'a domain of some account (any case)' } },
} as const;

/** The refusals every admin route can give, besides its own. */
export const GATE_RESPONSES = {
  400: problem('the Authorization header is not "Bearer <token>"'),
  401: problem('no bearer token, or not an admin token (WWW-Authenticate: Bearer realm="mailconf-admin")'),
  403: problem('plain HTTP from another machine: the API answers only over HTTPS or on loopback'),
  429: problem('the admin rate limit (ADMIN_RATE_LIMIT_MAX per RATE_LIMIT_WINDOW) is spent (Retry-After)'),
} as const;
