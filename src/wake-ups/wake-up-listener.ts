// Holds one connection that LISTENs for wake-ups (and cancellations) and calls back on each. If
// the connection drops it reconnects with back-off and calls back once, since notifications sent
// meanwhile were lost; polling and lease renewal cover the gap, and poolers that drop notifications.
import type { PoolClient } from 'pg';
import { setTimeout as delay } from 'node:timers/promises';
import type { ZartLogger } from '../logging/zart-logger';
import { cancelChannel } from '../storage/sql/cancel-runs';
import { wakeUpChannel } from '../storage/sql/notify-wake-up';
import type { ZartDatabase } from '../storage/zart-database';

/** @internal */
export class WakeUpListener {
  private client: PoolClient | undefined;
  private readonly stopped = new AbortController();
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly db: ZartDatabase,
    /** `payload`: what changed, when the sender said (`schedules`: see change-schedule.ts). */
    private readonly onWakeUp: (payload: string | undefined) => void,
    private readonly onCancelled: (runIds: string[]) => void,
    private readonly logger: ZartLogger,
  ) {}

  private get channels(): string[] {
    return [wakeUpChannel(this.db.schema), cancelChannel(this.db.schema)];
  }

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.query('UNLISTEN *').catch(() => undefined);
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
        const cancels = cancelChannel(this.db.schema);
        client.on('notification', (message) => {
          if (message.channel === cancels) this.onCancelled((message.payload ?? '').split('\n').filter(Boolean));
          else this.onWakeUp(message.payload ?? undefined);
        });
        client.on('error', (error) => this.lost(client!, error));
        for (const channel of this.channels) await client.query(`LISTEN "${channel}"`);
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
    void this.connect().then(() => this.onWakeUp(undefined));
  }
}
