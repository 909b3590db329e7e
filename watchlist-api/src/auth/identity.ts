// Who is asking: users, roles and their tokens (docs/USERS.md). Pure helpers; the storage is repos/users.ts.
import { createHash, randomBytes } from 'node:crypto';

export const ROLES = ['admin', 'trader', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The identity a request acts as. `tokenId` is null for the built-in admin's API_TOKEN (not stored). */
export interface Actor {
  id: string;
  name: string;
  role: Role;
  tokenId: string | null;
}

/** The built-in admin: API_TOKEN's identity and the owner of every row that existed before users (migration 003). */
export const ADMIN_ID = '00000000-0000-4000-8000-000000000001';

/** Issued tokens start with this, so the API knows which bearer values to look up at all. */
export const TOKEN_PREFIX = 'mt_';

/** The Grafana organisation role each API role signs in with (nginx → Grafana's auth proxy `Role` header). */
export const GRAFANA_ROLE: Record<Role, 'Admin' | 'Editor' | 'Viewer'> = { admin: 'Admin', trader: 'Editor', viewer: 'Viewer' };

export const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** 256 random bits, base64url: guessing one, or inverting its SHA-256, is out of reach (docs/USERS.md "Tokens"). */
export function newSecret(prefix = ''): { secret: string; hash: Buffer } {
  const secret = prefix + randomBytes(32).toString('base64url');
  return { secret, hash: sha256(secret) };
}

/** A new API token: the value (shown once), its hash (stored) and the prefix shown in lists. */
export function newToken(): { token: string; hash: Buffer; prefix: string } {
  const { secret, hash } = newSecret(TOKEN_PREFIX);
  return { token: secret, hash, prefix: secret.slice(0, TOKEN_PREFIX.length + 6) };
}

/** A short-link code: 72 random bits, URL-safe. */
export const newCode = (): string => randomBytes(9).toString('base64url');

/** `Authorization: Bearer <value>` → value (undefined for no or another scheme). */
export function bearerOf(header: string | undefined): string | undefined {
  return /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** One cookie's value from a Cookie header. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export const canWrite = (a: Actor): boolean => a.role !== 'viewer';
