// Request/response schemas of users, tokens and layouts (docs/USERS.md): validation and OpenAPI from one source.
import { z } from 'zod';
import { ROLES } from './auth/identity.js';

const noNul = (s: string) => !s.includes('\u0000');
const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

export const Role = z.enum(ROLES).describe('admin: everything incl. users; trader: own watchlists, rules, layouts; viewer: reads only');
export const UserName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_", "-"; 1-63 characters, starting with a letter or digit')
  .describe('Login name, also the Grafana login');
const label = z.string().trim().min(1).max(100).refine(noNul, NUL_MESSAGE).describe('What the token is for, e.g. "laptop"');

export const UserParams = z.strictObject({ id: z.uuid() });
export const TokenParams = z.strictObject({ id: z.uuid(), tokenId: z.uuid() });

export const TokenInfo = z.object({
  id: z.uuid(),
  prefix: z.string().describe('The first characters of the token'),
  label: z.string().nullable(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof TokenInfo>;

export const User = z.object({
  id: z.uuid(),
  name: z.string(),
  role: Role,
  disabled: z.boolean(),
  tokens: z.array(TokenInfo),
  created_at: z.string(),
  updated_at: z.string(),
});
export type User = z.infer<typeof User>;

export const IssuedToken = TokenInfo.extend({ token: z.string().describe('The token itself: shown this once, only its SHA-256 is stored') });
export type IssuedToken = z.infer<typeof IssuedToken>;
export const UserCreated = User.extend({ token: IssuedToken.describe('The user’s first token') });

export const UserCreate = z.strictObject({ name: UserName, role: Role, token_label: label.optional() });
export const UserPatch = z
  .strictObject({ role: Role.optional(), disabled: z.boolean().optional().describe('true: every token and session of the user is refused at once') })
  .refine((v) => v.role !== undefined || v.disabled !== undefined, { message: 'nothing to change: give role and/or disabled' });
export const TokenCreate = z.strictObject({ label: label.optional() });

export const Me = z.object({
  id: z.uuid(),
  name: z.string(),
  role: Role,
  grafana_role: z.enum(['Admin', 'Editor', 'Viewer']),
  token_id: z.uuid().nullable().describe('The token of this request (null: the built-in admin’s API_TOKEN)'),
});

// ---- layouts --------------------------------------------------------------------------------------------

const dashboardUid = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'a dashboard uid such as markets-overview').describe('Grafana dashboard uid');
// Grafana's time range syntax: now, now-6h, now-1d/d, epoch milliseconds, or an ISO 8601 instant
const timeExpr = z
  .string()
  .max(40)
  .regex(/^(now([+-]\d{1,6}[smhdwMy])?(\/[smhdwMy])?|\d{1,13}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)$/, 'now, now-6h, now-1d/d, epoch ms or an ISO 8601 UTC instant');
const refresh = z.string().regex(/^\d{1,4}[smhd]$/, 'an interval such as 5s, 1m, 1h').nullable().describe('Auto-refresh, e.g. 5s (null: off)');
const symbol = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9^][A-Za-z0-9./^:=-]*$/, 'a symbol such as BTC/USDT, AAPL, ^GSPC, EUR/USD')
  .describe('Symbol as stored: BTC/USDT, AAPL, ^GSPC, EUR/USD');
const varValue = z.string().max(200).refine(noNul, NUL_MESSAGE);
const variables = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,39}$/, 'a variable name'), z.union([varValue, z.array(varValue).max(50)]))
  .refine((v) => Object.keys(v).length <= 20, { message: 'at most 20 variables' })
  .describe('Dashboard variables: { "tf": "5m", "asset": ["BTC", "ETH"] } → var-tf=5m&var-asset=BTC&var-asset=ETH');

const layoutFields = {
  name: z.string().trim().min(1).max(100).refine(noNul, NUL_MESSAGE).describe('Display name'),
  dashboards: z.array(dashboardUid).min(1).max(10).describe('Dashboards opened together; /l/<code> opens the first, /l/<code>/<n> the n-th (0-based)'),
  symbols: z.array(symbol).max(50).describe('Sent as var-symbol (unless variables names symbol)'),
  variables,
  from: timeExpr.describe('Start of the time range (default now-6h)'),
  to: timeExpr.describe('End of the time range (default now)'),
  refresh,
  shared: z.boolean().describe('Readable (and openable) by every user; only the owner changes it'),
};
export const LayoutCreate = z.strictObject({
  name: layoutFields.name,
  dashboards: layoutFields.dashboards,
  symbols: layoutFields.symbols.optional(),
  variables: layoutFields.variables.optional(),
  from: layoutFields.from.optional(),
  to: layoutFields.to.optional(),
  refresh: layoutFields.refresh.optional(),
  shared: layoutFields.shared.optional(),
});
export type LayoutCreate = z.output<typeof LayoutCreate>;
export const LayoutPatch = LayoutCreate.partial().refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });
export type LayoutPatch = z.output<typeof LayoutPatch>;

export const Layout = z.object({
  id: z.uuid(),
  code: z.string(),
  owner: z.string().describe('Owner’s user name'),
  name: z.string(),
  dashboards: z.array(z.string()),
  symbols: z.array(z.string()),
  variables: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  from: z.string(),
  to: z.string(),
  refresh: z.string().nullable(),
  shared: z.boolean(),
  short_link: z.string().describe('/l/<code>: 302 to the first dashboard'),
  links: z.array(z.string()).describe('The Grafana URL of each dashboard (relative to the terminal’s address)'),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Layout = z.infer<typeof Layout>;
export const CodeParams = z.strictObject({ code: z.string().regex(/^[A-Za-z0-9_-]{8,32}$/, 'a layout code') });
export const CodeIndexParams = z.strictObject({ code: CodeParams.shape.code, n: z.coerce.number().int().min(0).max(9) });
