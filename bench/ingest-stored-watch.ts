// When each payload row commits, seen from outside the bridge: a NOTIFY per inserted row, delivered at commit.
import pg from 'pg';

export interface StoredWatch {
  /** Commit time (as received here, ms since the epoch) by sha256. */
  storedAt: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * Installs a bench-only trigger on this (fresh, bench-owned) database's raw_payloads and listens to it.
 * PostgreSQL delivers a notification only when its transaction commits, so the time it arrives is when the
 * row became durable, without polling the table.
 */
export async function watchStoredPayloads(databaseUrl: string): Promise<StoredWatch> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`
    CREATE OR REPLACE FUNCTION bench_notify_stored() RETURNS trigger AS $$
    BEGIN PERFORM pg_notify('bench_stored', NEW.sha256); RETURN NEW; END $$ LANGUAGE plpgsql;
    DROP TRIGGER IF EXISTS bench_stored ON raw_payloads;
    CREATE TRIGGER bench_stored AFTER INSERT ON raw_payloads FOR EACH ROW EXECUTE FUNCTION bench_notify_stored();
  `);
  const storedAt = new Map<string, number>();
  client.on('notification', (message) => {
    if (message.payload !== undefined && !storedAt.has(message.payload)) storedAt.set(message.payload, Date.now());
  });
  await client.query('LISTEN bench_stored');
  return { storedAt, stop: () => client.end() };
}
