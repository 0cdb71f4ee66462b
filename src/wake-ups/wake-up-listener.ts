// Holds one connection that LISTENs for wake-ups and calls back on each. If the connection
// drops it reconnects with back-off and calls back once, since notifications sent meanwhile were
// lost; polling covers the gap and poolers that drop notifications altogether.
import type { PoolClient } from 'pg';
import { setTimeout as delay } from 'node:timers/promises';
import type { ZartLogger } from '../logging/zart-logger';
import { wakeUpChannel } from '../storage/sql/notify-wake-up';
import type { ZartDatabase } from '../storage/zart-database';

/** @internal */
export class WakeUpListener {
  private client: PoolClient | undefined;
  private readonly stopped = new AbortController();
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly db: ZartDatabase,
    private readonly onWakeUp: () => void,
    private readonly logger: ZartLogger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.query(`UNLISTEN "${wakeUpChannel(this.db.schema)}"`).catch(() => undefined);
      client.release();
    }
  }

  private connect(): Promise<void> {
    this.connecting ??= this.connectWithBackOff().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectWithBackOff(): Promise<void> {
    for (let pause = 100; !this.stopped.signal.aborted; pause = Math.min(pause * 2, 5_000)) {
      let client: PoolClient | undefined;
      try {
        client = await this.db.pool.connect();
        client.on('notification', () => this.onWakeUp());
        client.on('error', (error) => this.lost(client!, error));
        await client.query(`LISTEN "${wakeUpChannel(this.db.schema)}"`);
        this.client = client;
        return;
      } catch (error) {
        client?.release(error as Error);
        this.logger.warn('listening for wake-ups failed; retrying (polling continues meanwhile)', {
          error: error instanceof Error ? error.message : String(error),
        });
        await delay(pause, undefined, { signal: this.stopped.signal }).catch(() => undefined);
      }
    }
  }

  private lost(client: PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.release(error);
    if (this.stopped.signal.aborted) return;
    this.logger.warn('the wake-up connection dropped; reconnecting', { error: error.message });
    void this.connect().then(() => this.onWakeUp());
  }
}
