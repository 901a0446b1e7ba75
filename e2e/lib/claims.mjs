// Real claims for tests that need a claim to vote on: the runtime has no test-only way to open
// one, so a test opens a data dispute the way a buyer would.
import { randomAsU8a } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import { dealKeyCommitment, sendChecked } from './node.mjs';

const UNITS = 10n ** 12n;

/** Registers an encryption key for `who` unless it has one (nobody trades without one). */
export async function ensureKey(api, who) {
  if ((await api.query.dataMarket.encryptionKeys(who.address)).isNone) {
    await sendChecked(api, api.tx.dataMarket.registerKey(randomAsU8a(32)), who);
  }
}

/** A tag nobody else trades, goods to offer under it and an expiry `blocks` from now. */
async function freshListing(api, blocks) {
  return {
    tag: `e2e-claim-${u8aToHex(randomAsU8a(6)).slice(2)}`,
    goods: { kind: 'RawData', commitment: { contentHash: randomAsU8a(32), size: 1_024, samples: 10, schema: randomAsU8a(32) } },
    expires: (await api.rpc.chain.getHeader()).number.toNumber() + blocks,
  };
}

/**
 * `seller` offers one unit under a tag nobody else trades (so that no worker buys it), `buyer`
 * buys it and the seller delivers it with a committed deal key. Returns `{ deal, dispute }`:
 * `dispute()` builds the buyer's dispute with that key, which opens a `DataDispute` claim whose
 * claimant is the seller (who stands by the delivery) and from whose electorate the buyer is left
 * out. A rejected claim slashes the seller, refunds the buyer and pays it the seller's bond.
 */
export async function deliveredDeal(api, { seller, buyer, price = UNITS }) {
  await ensureKey(api, seller);
  await ensureKey(api, buyer);
  const { tag, goods, expires } = await freshListing(api, 200);
  await sendChecked(api, api.tx.dataMarket.postOffer(tag, goods, price, 1, expires, null), seller);
  const { events: bid } = await sendChecked(api, api.tx.dataMarket.postBid(tag, price, 1, expires, null), buyer);
  const matched = bid.find(({ event }) => api.events.dataMarket.DealMatched.is(event));
  if (!matched) throw new Error(`the bid on ${tag} did not match the offer`);
  const deal = matched.event.data.deal.toNumber();
  const key = randomAsU8a(32);
  await sendChecked(api, api.tx.dataMarket.deliver(deal, randomAsU8a(32), dealKeyCommitment(deal, key)), seller);
  // (An `Option<[u8; 32]>` argument is given as hex: polkadot.js reads a Uint8Array as an
  // encoded Option.)
  return { deal, dispute: () => api.tx.dataMarket.dispute(deal, randomAsU8a(32), u8aToHex(key)) };
}

/**
 * A `DataDispute` claim, opened as [`deliveredDeal`] describes. Returns `{ opened, deal,
 * blockHash }`: the `ClaimOpened` event's data, the deal and the block the dispute was included in.
 */
export async function openDataDispute(api, parties) {
  const { deal, dispute } = await deliveredDeal(api, parties);
  const { events, blockHash } = await sendChecked(api, dispute(), parties.buyer);
  const opened = events.find(({ event }) => api.events.weightedVoting.ClaimOpened.is(event))?.event.data;
  if (!opened) throw new Error(`the dispute of deal ${deal} opened no claim`);
  return { opened, deal, blockHash };
}

/**
 * `count` `DataDispute` claims at once (for benchmarks): `seller` offers `count` units under a
 * fresh tag, `buyer` buys them one deal each, the seller delivers and the buyer disputes every
 * deal with its key, each step in batches of at most `perBlock` calls. Returns the
 * `ClaimOpened` data of the claims that opened (a class holds at most 96 open claims; the rest
 * wait in the queue).
 */
export async function openDataDisputes(api, { seller, buyer, count, price = UNITS, perBlock = 40 }) {
  await ensureKey(api, seller);
  await ensureKey(api, buyer);
  const { tag, goods, expires } = await freshListing(api, 500);
  await sendChecked(api, api.tx.dataMarket.postOffer(tag, goods, price, count, expires, null), seller);
  const inBatches = async (calls, signer) => {
    const events = [];
    for (let at = 0; at < calls.length; at += perBlock) {
      events.push(...(await sendChecked(api, api.tx.utility.batchAll(calls.slice(at, at + perBlock)), signer)).events);
    }
    return events;
  };
  const bids = Array.from({ length: count }, () => api.tx.dataMarket.postBid(tag, price, 1, expires, null));
  const deals = (await inBatches(bids, buyer))
    .filter(({ event }) => api.events.dataMarket.DealMatched.is(event)).map(({ event }) => event.data.deal.toNumber());
  const keys = deals.map(() => randomAsU8a(32));
  await inBatches(deals.map((deal, k) => api.tx.dataMarket.deliver(deal, randomAsU8a(32), dealKeyCommitment(deal, keys[k]))), seller);
  const disputed = await inBatches(deals.map((deal, k) => api.tx.dataMarket.dispute(deal, randomAsU8a(32), u8aToHex(keys[k]))), buyer);
  return disputed.filter(({ event }) => api.events.weightedVoting.ClaimOpened.is(event)).map(({ event }) => event.data);
}
