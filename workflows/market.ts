import type { MarketInput, MarketState } from '../contracts/market';
import { MarketEntity } from './market/entity';
import { MarketProcess } from './market/process';

/**
 * One binary market from creation to its last payout:
 * scheduled → open (at opensAt) → trading → closed (at closesAt, or earlier on `close`) →
 * resolved (`resolve`) → dispute window → settled; or `void` at any point before payout →
 * everyone refunded their net cost.
 */
export async function marketWorkflow(input: MarketInput): Promise<MarketState> {
  const market = new MarketEntity(input);
  const lifecycle = new MarketProcess(input, market);
  if (await lifecycle.open()) await lifecycle.tradeUntilClosed();
  else await lifecycle.closeUntraded();
  await lifecycle.cancelRestingOrders();
  await lifecycle.awaitResult();
  if (await lifecycle.resolve()) return lifecycle.settle();
  return lifecycle.refundEveryone();
}
