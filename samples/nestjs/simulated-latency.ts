// The sample's services stand in for real ones (a warehouse, a payment provider, a carrier): each
// call takes ORDERS_SIMULATED_LATENCY ms (default 1000), so a redeploy can land mid-workflow.
import { setTimeout as delay } from 'node:timers/promises';

export function simulatedLatency(): Promise<void> {
  return delay(Number(process.env.ORDERS_SIMULATED_LATENCY ?? 1000));
}
