// The PostgreSQL connection string from DATABASE_URL and, when given apart, the password (PGPASSWORD,
// in compose PGPASSWORD_FILE). The password is percent-encoded here, so one with `/ @ : # %` needs no
// hand-encoding and cannot make the URL unparseable (docs/DEPLOYMENT.md "Secrets").

/** `postgres://user@host/db` + password `p@ss/w:rd#%` → the same URL with `p%40ss%2Fw%3Ard%23%25` as its password (pg decodes it). */
export function pgConnectionString(databaseUrl: string, password?: string): string {
  if (password === undefined || password === '') return databaseUrl;
  let u: URL;
  try {
    u = new URL(databaseUrl);
  } catch {
    throw new Error('DATABASE_URL is not a URL (percent-encode special characters in its password, or give the password as PGPASSWORD)');
  }
  u.password = encodeURIComponent(password);
  return u.toString();
}
