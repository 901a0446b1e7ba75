// Real claims for tests that need a claim to vote on: the runtime has no test-only way to open
// one, so a test opens a data dispute the way a buyer would.
import { randomAsU8a } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import { dealKeyCommitment, finalizedEvent, sendChecked } from './node.mjs';

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

/** Deals [`deliveredDeal`] returned, so that a later call of the same parties cannot take one. */
const dealsTaken = new Set();

/**
 * `seller` offers one unit under a tag nobody else trades (so that no worker buys it), `buyer`
 * buys it and the seller delivers it with a committed deal key. Returns `{ deal, dispute }`:
 * `dispute()` builds the buyer's dispute with that key, which opens a `DataDispute` claim whose
 * claimant is the seller (who stands by the delivery) and from whose electorate the buyer is left
 * out. A rejected claim slashes the seller, refunds the buyer and pays it the seller's bond.
 *
 * Each step waits until the finalized chain holds the one before: on a local network a block is
 * often replaced by a sibling, and a transaction of the replaced block can land after the next
 * step's (a delivery before its deal was matched fails with `UnknownDeal`).
 */
export async function deliveredDeal(api, { seller, buyer, price = UNITS }) {
  await ensureKey(api, seller);
  await ensureKey(api, buyer);
  const { tag, goods, expires } = await freshListing(api, 200);
  const { blockHash: offeredIn } = await sendChecked(api, api.tx.dataMarket.postOffer(tag, goods, price, 1, expires, null), seller);
  await finalizedEvent(api, offeredIn, (e) => api.events.dataMarket.OrderPosted.is(e) && e.data.tag.toUtf8() === tag, { back: 3 });
  const { events: bid, blockHash: bidIn } = await sendChecked(api, api.tx.dataMarket.postBid(tag, price, 1, expires, null), buyer);
  if (!bid.some(({ event }) => api.events.dataMarket.DealMatched.is(event))) throw new Error(`the bid on ${tag} did not match the offer`);
  const { data: matched } = await finalizedEvent(api, bidIn, (e) => api.events.dataMarket.DealMatched.is(e)
    && e.data.seller.eq(seller.address) && e.data.buyer.eq(buyer.address) && !dealsTaken.has(e.data.deal.toNumber()), { back: 3 });
  const deal = matched.deal.toNumber();
  dealsTaken.add(deal);
  const key = randomAsU8a(32);
  const { blockHash: deliveredIn } = await sendChecked(api, api.tx.dataMarket.deliver(deal, randomAsU8a(32), dealKeyCommitment(deal, key)), seller);
  await finalizedEvent(api, deliveredIn, (e) => api.events.dataMarket.Delivered.is(e) && e.data.deal.toNumber() === deal, { back: 3 });
  // (An `Option<[u8; 32]>` argument is given as hex: polkadot.js reads a Uint8Array as an
  // encoded Option.)
  return { deal, dispute: () => api.tx.dataMarket.dispute(deal, randomAsU8a(32), u8aToHex(key)) };
}

/**
 * A `DataDispute` claim, opened as [`deliveredDeal`] describes. Returns `{ opened, deal,
 * blockHash }`: the `ClaimOpened` event's data and the block that holds it, both of the finalized
 * chain (a claim's committee is drawn with the VRF output of the block it opens in, so a replaced
 * block's sibling can open it with other voters), and the deal.
 */
export async function openDataDispute(api, parties) {
  const { deal, dispute } = await deliveredDeal(api, parties);
  const { events, blockHash: sentIn } = await sendChecked(api, dispute(), parties.buyer);
  const sent = events.find(({ event }) => api.events.weightedVoting.ClaimOpened.is(event))?.event.data;
  if (!sent) throw new Error(`the dispute of deal ${deal} opened no claim`);
  const { data: opened, blockHash } = await finalizedEvent(api, sentIn,
    (e) => api.events.weightedVoting.ClaimOpened.is(e) && e.data.subject.eq(sent.subject), { back: 3 });
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
