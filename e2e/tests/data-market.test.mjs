// The data market on the dev chain, seen from polkadot.js with nothing but the metadata:
// Dave (a data node) offers encrypted wallet-transaction data, Alice (the validator) bids and
// they match; Dave delivers, Alice confirms and the payment splits 98 % to Dave, 2 % protocol
// fee to the rewards pallet's fee sink (on the dev chain half to the reward pot, half to the
// treasury: `feeToPot` 50 %). A second deal is never delivered: after the dev chain's 10-block
// delivery period Alice is refunded and Dave's 10 % bond goes to the treasury.
// A third deal is disputed with the deal key: the buyer, Alice, is never drawn to vote on her own
// dispute. A fourth is disputed without it (fair exchange: the buyer says the payload does not
// open); Dave, who committed to the key at delivery, never reveals it, so Alice is refunded and
// gets his bond: a seller cannot escape the vote by withholding the key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, randomAsU8a } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { dealKeyCommitment, port, sendChecked, startDevNode, subscribeEvents, waitFor } from '../lib/node.mjs';

const UNITS = 10n ** 12n;
const TAG = 'wallet-tx-v1';
const PRICE = 10n * UNITS;
const SELLER_BOND_PERCENT = 10n;
const PROTOCOL_FEE_PERCENT = 2n;

let node;
let api;
let alice;
let dave;
let treasury;
const seen = []; // every event of every block since the start, with its block number

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  dave = keyring.addFromUri('//Dave');
  // `PalletId(*b"lpx/trsy").into_account_truncating()`: "modl" ++ id, zero-padded to 32 bytes.
  treasury = keyring.encodeAddress(u8aConcat(stringToU8a('modl'), stringToU8a('lpx/trsy'), new Uint8Array(20)));
  node = await startDevNode({ rpcPort: port(9952), p2pPort: port(30352), promPort: port(9662) });
  api = node.api;
  await subscribeEvents(api, (header, events) => {
    for (const { event } of events) seen.push({ block: header.number.toNumber(), event });
  });
});

after(async () => {
  await node?.stop();
});

/** Submits `tx` signed by `signer`; asserts success; returns its events, block and fee. */
const send = (tx, signer) => sendChecked(api, tx, signer);

/** Submits `tx`, expecting the module error `name` ("pallet.Error"); returns the fee it paid. */
const sendFailing = async (tx, signer, name) => (await sendChecked(api, tx, signer, { expectError: name })).fee;

const eventOf = (events, kind) => events.find(({ event }) => kind.is(event))?.event.data;
const total = async (who) => {
  const { free, reserved } = (await api.query.system.account(who)).data;
  return free.toBigInt() + reserved.toBigInt();
};
const bestBlock = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const goods = () => ({
  kind: 'RawData',
  commitment: { contentHash: randomAsU8a(32), size: 65_536, samples: 1_000, schema: randomAsU8a(32) },
});

let deal;

test('a data node offers, a validator bids above the price, and they match at the offer\'s price', { timeout: 120_000 }, async () => {
  // Without an encryption key nobody can trade.
  await sendFailing(api.tx.dataMarket.postBid(TAG, PRICE, 1, (await bestBlock()) + 100, null), alice, 'dataMarket.NoEncryptionKey');
  await send(api.tx.dataMarket.registerKey(randomAsU8a(32)), alice);
  await send(api.tx.dataMarket.registerKey(randomAsU8a(32)), dave);

  const expires = (await bestBlock()) + 200;
  const { events: posted } = await send(api.tx.dataMarket.postOffer(TAG, goods(), PRICE, 2, expires, null), dave);
  const offer = eventOf(posted, api.events.dataMarket.OrderPosted);
  assert.equal(offer.held.toBigInt(), (2n * PRICE * SELLER_BOND_PERCENT) / 100n, 'the bond is 10 % of the price per unit');
  const book = await api.call.dataMarketApi.bestOrders(TAG, 'Offer', 10);
  assert.deepEqual(book.map((o) => [o.id.toNumber(), o.owner.toString(), o.price.toBigInt(), o.remaining.toNumber()]),
    [[offer.order.toNumber(), dave.address, PRICE, 2]]);

  // Alice bids 12 LPX a unit: she buys at Dave's 10 and gets the excess back at once.
  const { events: matched } = await send(api.tx.dataMarket.postBid(TAG, 12n * UNITS, 2, expires, null), alice);
  const m = eventOf(matched, api.events.dataMarket.DealMatched);
  assert.ok(m, 'the bid crossed the offer');
  assert.equal(m.seller.toString(), dave.address);
  assert.equal(m.buyer.toString(), alice.address);
  assert.equal(m.price.toBigInt(), PRICE);
  assert.equal(m.quantity.toNumber(), 2);
  assert.equal(m.payment.toBigInt(), 2n * PRICE);
  assert.equal(m.released.toBigInt(), 2n * 2n * UNITS);
  deal = m.deal.toNumber();
  assert.equal((await api.call.dataMarketApi.bestOrders(TAG, 'Offer', 10)).length, 0, 'both orders cleared');

  const [sellerView] = await api.call.dataMarketApi.dealsOf(dave.address);
  assert.equal(sellerView.id.toNumber(), deal);
  assert.ok(sellerView.isSeller.isTrue);
  assert.equal(sellerView.next.toString(), 'Deliver');
  const [buyerView] = await api.call.dataMarketApi.dealsOf(alice.address);
  assert.equal(buyerView.next.toString(), 'AwaitDelivery');
});

test('delivery then confirmation pays the seller 98 % and the protocol 2 %', { timeout: 120_000 }, async () => {
  assert.ok(deal !== undefined, 'the previous test made a deal');
  const [daveBefore, aliceBefore] = [await total(dave.address), await total(alice.address)];

  // Only the seller delivers, committing to a deal key; only the buyer confirms.
  const keyCommitment = dealKeyCommitment(deal, randomAsU8a(32));
  const aliceFailedFee = await sendFailing(api.tx.dataMarket.deliver(deal, randomAsU8a(32), keyCommitment), alice, 'dataMarket.NotSeller');
  const zeroFailedFee = await sendFailing(api.tx.dataMarket.deliver(deal, randomAsU8a(32), new Uint8Array(32)), dave, 'dataMarket.InvalidKeyCommitment');
  const { events: delivered, fee: deliverFee } = await send(api.tx.dataMarket.deliver(deal, randomAsU8a(32), keyCommitment), dave);
  assert.ok(eventOf(delivered, api.events.dataMarket.Delivered));
  const [buyerView] = await api.call.dataMarketApi.dealsOf(alice.address);
  assert.equal(buyerView.next.toString(), 'ConfirmOrDispute');
  const daveFailedFee = await sendFailing(api.tx.dataMarket.confirm(deal), dave, 'dataMarket.NotBuyer');

  const { events: confirmed, fee: confirmFee } = await send(api.tx.dataMarket.confirm(deal), alice);
  const settled = eventOf(confirmed, api.events.dataMarket.DealSettled);
  const payment = 2n * PRICE;
  const protocolFee = (payment * PROTOCOL_FEE_PERCENT) / 100n;
  assert.equal(settled.protocolFee.toBigInt(), protocolFee);
  assert.equal(settled.routerFee.toBigInt(), 0n);
  assert.equal(settled.toSeller.toBigInt(), payment - protocolFee);
  const taken = confirmed.map(({ event }) => event).find((e) => api.events.rewards.FeeTaken.is(e) && e.data.from.toString() === alice.address);
  assert.ok(taken, 'the protocol fee went through the rewards pallet');
  assert.equal(taken.data.toPot.toBigInt() + taken.data.toTreasury.toBigInt(), protocolFee);
  assert.equal(taken.data.toPot.toBigInt(), protocolFee / 2n, 'half to the reward pot on the dev chain');

  // To the last unit: Dave gains the payment minus the protocol fee and his transaction fees;
  // Alice pays the payment and her transaction fees; the bond is free again.
  assert.equal(await total(dave.address), daveBefore + payment - protocolFee - deliverFee - daveFailedFee - zeroFailedFee);
  assert.equal(await total(alice.address), aliceBefore - payment - confirmFee - aliceFailedFee);
  assert.equal((await api.query.system.account(dave.address)).data.reserved.toBigInt(), api.consts.dataMarket.keyDeposit.toBigInt(),
    'no hold left on the seller but his encryption key\'s deposit');
  assert.equal((await api.call.dataMarketApi.dealsOf(dave.address)).length, 0);
  assert.equal((await api.query.dataMarket.deals(deal)).isNone, true);
});

test('an undelivered deal refunds the buyer and slashes the bond to the treasury after 10 blocks', { timeout: 180_000 }, async () => {
  const expires = (await bestBlock()) + 200;
  await send(api.tx.dataMarket.postOffer(TAG, goods(), PRICE, 1, expires, null), dave);
  const aliceBefore = await total(alice.address);
  const { events, fee, blockHash } = await send(api.tx.dataMarket.postBid(TAG, PRICE, 1, expires, null), alice);
  // Nobody transacts while we wait, so the treasury gains exactly the bond.
  const treasuryBefore = await total(treasury);
  const m = eventOf(events, api.events.dataMarket.DealMatched);
  const second = m.deal.toNumber();
  const matchedAt = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
  assert.equal(m.deliverBy.toNumber(), matchedAt + 10, 'the dev chain gives 10 blocks to deliver');

  const refunded = await waitFor('the delivery deadline', () => {
    const hit = seen.find(({ event }) => api.events.dataMarket.DealRefunded.is(event) && event.data.deal.toNumber() === second);
    return hit?.event.data;
  }, { timeoutMs: 150_000 });
  const bond = (PRICE * SELLER_BOND_PERCENT) / 100n;
  assert.equal(refunded.reason.toString(), 'NotDelivered');
  assert.equal(refunded.refunded.toBigInt(), PRICE);
  assert.equal(refunded.bondSlashed.toBigInt(), bond);
  assert.equal(await total(alice.address), aliceBefore - fee, 'Alice got all of her payment back');
  assert.equal(await total(treasury), treasuryBefore + bond, 'the bond went to the treasury');
  assert.equal((await api.query.dataMarket.deals(second)).isNone, true);
});

test('a buyer cannot vote on its own dispute', { timeout: 120_000 }, async () => {
  const expires = (await bestBlock()) + 200;
  await send(api.tx.dataMarket.postOffer(TAG, goods(), PRICE, 1, expires, null), dave);
  const matched = eventOf((await send(api.tx.dataMarket.postBid(TAG, PRICE, 1, expires, null), alice)).events, api.events.dataMarket.DealMatched);
  const disputed = matched.deal.toNumber();
  const key = randomAsU8a(32);
  await send(api.tx.dataMarket.deliver(disputed, randomAsU8a(32), dealKeyCommitment(disputed, key)), dave);
  // (An `Option<[u8; 32]>` argument is given as hex: polkadot.js reads a Uint8Array as an
  // encoded Option.)
  await sendFailing(api.tx.dataMarket.dispute(disputed, randomAsU8a(32), u8aToHex(randomAsU8a(32))), alice, 'dataMarket.WrongDealKey');
  // With the key that matches Dave's commitment the vote opens at once.
  const { events } = await send(api.tx.dataMarket.dispute(disputed, randomAsU8a(32), u8aToHex(key)), alice);
  assert.deepEqual(eventOf(events, api.events.dataMarket.DealKeyRevealed).key.toU8a(), key);
  const opened = eventOf(events, api.events.weightedVoting.ClaimOpened);
  assert.equal(opened.class.toString(), 'DataDispute');
  assert.equal(opened.claimant.toString(), dave.address, 'the seller stands by what it delivered');
  // Alice is the dev chain's only validator, and the buyer: the claim has no voter at all.
  assert.equal(opened.voters.toNumber(), 0, 'the buyer is not drawn');
  const claim = opened.claim.toNumber();
  assert.ok(!(await api.call.weightedVotingApi.claimsForVoter(alice.address)).some((c) => c.claim.toNumber() === claim));
  const claimed = (await api.query.weightedVoting.claims(claim)).unwrap().commitment;
  await sendFailing(api.tx.weightedVoting.commitVote(claim, claimed, randomAsU8a(32)), alice, 'weightedVoting.NotEligible');
});

test('a seller that withholds the deal key loses the deal and its bond to the buyer', { timeout: 180_000 }, async () => {
  const expires = (await bestBlock()) + 200;
  await send(api.tx.dataMarket.postOffer(TAG, goods(), PRICE, 1, expires, null), dave);
  const aliceBefore = await total(alice.address);
  const { events: bid, fee: bidFee } = await send(api.tx.dataMarket.postBid(TAG, PRICE, 1, expires, null), alice);
  const id = eventOf(bid, api.events.dataMarket.DealMatched).deal.toNumber();
  const key = randomAsU8a(32);
  const { fee: deliverFee } = await send(api.tx.dataMarket.deliver(id, randomAsU8a(32), dealKeyCommitment(id, key)), dave);
  const daveBefore = await total(dave.address);
  const daveReputation = (await api.call.stakeReputationApi.reputation(dave.address)).toNumber();

  // Alice cannot open what she received: she disputes without a key. No vote yet; Dave must reveal.
  const { events, fee: disputeFee } = await send(api.tx.dataMarket.dispute(id, randomAsU8a(32), null), alice);
  const disputed = eventOf(events, api.events.dataMarket.Disputed);
  assert.ok(disputed.claim.isNone, 'no vote before the key is known');
  assert.ok(disputed.revealBy.isSome);
  assert.ok(!eventOf(events, api.events.weightedVoting.ClaimOpened));
  assert.equal((await api.call.dataMarketApi.dealsOf(dave.address)).find((d) => d.id.toNumber() === id).next.toString(), 'RevealKey');
  assert.equal((await api.call.dataMarketApi.dealsOf(alice.address)).find((d) => d.id.toNumber() === id).next.toString(), 'AwaitKey');
  // Only the committed key is taken, and only from a party to the deal.
  const wrongFee = await sendFailing(api.tx.dataMarket.revealDealKey(id, randomAsU8a(32)), alice, 'dataMarket.WrongDealKey');

  const refunded = await waitFor('the reveal deadline', () => {
    const hit = seen.find(({ event }) => api.events.dataMarket.DealRefunded.is(event) && event.data.deal.toNumber() === id);
    return hit?.event.data;
  }, { timeoutMs: 150_000 });
  const bond = (PRICE * SELLER_BOND_PERCENT) / 100n;
  assert.equal(refunded.reason.toString(), 'KeyNotRevealed');
  assert.equal(refunded.refunded.toBigInt(), PRICE);
  assert.equal(refunded.bondToBuyer.toBigInt(), bond, 'the seller\'s bond pays the buyer');
  assert.equal(refunded.bondSlashed.toBigInt(), 0n);
  // To the unit: Alice paid only her transaction fees and gained Dave's bond; her deposit is free.
  assert.equal(await total(alice.address), aliceBefore - bidFee - disputeFee - wrongFee + bond);
  assert.equal(await total(dave.address), daveBefore - bond);
  assert.ok((await api.call.stakeReputationApi.reputation(dave.address)).toNumber() < daveReputation, 'the seller lost reputation');
  assert.equal((await api.query.dataMarket.deals(id)).isNone, true);
  assert.ok(deliverFee > 0n);
});

test('a wash-trading loop between two accounts mints no reputation', { timeout: 120_000 }, async () => {
  // Before, every settled deal gave both sides reputation: two accounts of one operator trading
  // at price 0 took a validator to the maximum for the transaction fees.
  for (let i = 0; i < 3; i++) {
    const expires = (await bestBlock()) + 100;
    await send(api.tx.dataMarket.postOffer(TAG, goods(), 0, 1, expires, null), dave);
    const id = eventOf((await send(api.tx.dataMarket.postBid(TAG, 0, 1, expires, null), alice)).events, api.events.dataMarket.DealMatched).deal.toNumber();
    await send(api.tx.dataMarket.deliver(id, randomAsU8a(32), dealKeyCommitment(id, randomAsU8a(32))), dave);
    const { events } = await send(api.tx.dataMarket.confirm(id), alice);
    assert.ok(eventOf(events, api.events.dataMarket.DealSettled), `deal #${id} settled`);
    assert.equal(eventOf(events, api.events.stakeReputation.ReputationChanged), undefined, 'no reputation for a settled deal');
  }
  const minted = seen.filter(({ event }) => api.events.stakeReputation.ReputationChanged.is(event) && event.data.reason.toString() === 'DealCompleted');
  assert.deepEqual(minted, [], 'no deal ever minted reputation');
});
