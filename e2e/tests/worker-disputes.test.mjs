// A cheating validator is caught by the other validators' workers, on the four-validator local
// network with every worker on. Charlie runs with the test-only fault injection
// `--worker-fault forge-answers` (`LOOPX_FAULTY=charlie scripts/local-net.sh start`).
//
// Ferdie posts an aggregation query to all four validators (redundancy 4). Alice's, Bob's and
// Dave's workers reveal the true answer, Charlie's a forged one: the answers disagree, so each
// becomes a QueryResult claim in weighted voting, judged by a committee of two (root sets the
// class's committee size first: k smaller than the validator set, as on a large network) drawn
// from the other three. Every drawn worker answers the query itself and votes with commit–reveal
// (all four answered, so no validator is left who is not a rival: the rivals judge, and gain
// nothing by it, since a rejected answer's share of the fee goes back to the client). Charlie's claim is rejected: he is slashed,
// his reputation falls and so does his weight at the next election; the three honest answerers
// are paid and Ferdie gets the true answer. Nothing here is played by the test except Ferdie.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToString } from '@polkadot/util';
import { deliveredDeal } from '../lib/claims.mjs';
import { LOCAL_RPC_PORTS, connect, localNetWithEnv, sendChecked, sendCheckedAs, waitFor, disposeNet } from '../lib/node.mjs';

const UNITS = 10n ** 12n;
const FEE = 30n * UNITS;
const PROTOCOL_PERCENT = 2n;
const DATASET = 'wallet-demo';
const LOOSE = { minStake: 0, minReputation: 0 };
const ADDR = {
  alice: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  bob: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
  charlie: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
  dave: '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy',
};
const netDir = mkdtempSync(join(tmpdir(), 'loopx-worker-disputes-'));
let api;
let ferdie;

before(async () => {
  await cryptoWaitReady();
  ferdie = new Keyring({ type: 'sr25519' }).addFromUri('//Ferdie');
  // Root sets committee sizes: the local spec plus a sudo key (the local preset has none).
  localNetWithEnv({ LOOPX_FAULTY: 'charlie', LOOPX_TEST_SUDO: '1' }, netDir, 'start');
  api = await connect(LOCAL_RPC_PORTS.alice);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  // LOOPX_KEEP_NET=1 keeps the nodes' logs and databases for a look afterwards.
  try { localNetWithEnv({}, netDir, 'stop'); } finally { disposeNet(netDir); }
});

const bestBlock = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const session = async () => (await api.query.session.currentIndex()).toNumber();
const nextWeight = async (who) =>
  (await api.call.stakeReputationApi.nextValidators()).find((v) => v.who.toString() === who).weight.toNumber();

/** Events of the canonical blocks from..to (inclusive), each with its block number. */
async function eventsBetween(from, to) {
  const out = [];
  for (let n = from; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    for (const record of await (await api.at(hash)).query.system.events()) out.push({ n, event: record.event });
  }
  return out;
}

test('every validator\'s worker advertises the demo dataset', { timeout: 180_000 }, async () => {
  await waitFor('all four validators advertising', async () => {
    for (const who of Object.values(ADDR)) {
      const c = await api.call.computeMarketApi.capabilities(who);
      if (c.isNone || !c.unwrap().tags.map((t) => u8aToString(t)).includes(DATASET)) return false;
    }
    return true;
  }, { timeoutMs: 150_000, everyMs: 2_000 });
});

test('a forged answer is outvoted by a committee of two: the cheat is slashed and loses reputation and weight; the honest answer is paid', { timeout: 600_000 }, async () => {
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  // Alice's own worker signs with her key too: a nonce clash is retried.
  await sendCheckedAs(api, () => api.tx.sudo.sudo(api.tx.weightedVoting.setCommitteeSize('QueryResult', 2)), alice);
  try {
    await outvoted();
  } finally {
    await sendCheckedAs(api, () => api.tx.sudo.sudo(api.tx.weightedVoting.setCommitteeSize('QueryResult', 0)), alice);
  }
  // His weight falls at the next election.
  const s = await session();
  await waitFor(`session ${s + 1}`, async () => (await session()) > s, { timeoutMs: 150_000, everyMs: 2_000 });
  const weightAfter = await nextWeight(ADDR.charlie);
  assert.ok(weightAfter < weightBefore, `next-election weight ${weightBefore} -> ${weightAfter}`);
});

let weightBefore;

/** Ferdie's query to all four; Charlie's forged answer among the true ones. */
async function outvoted() {
  weightBefore = await nextWeight(ADDR.charlie);
  const reputationBefore = (await api.call.stakeReputationApi.reputation(ADDR.charlie)).toNumber();
  const start = await bestBlock();
  const sql = 'SELECT pattern, COUNT(*) AS n, AVG(amount) AS avg_amount FROM transactions GROUP BY pattern ORDER BY pattern';
  const { events: posted } = await sendChecked(api,
    api.tx.computeMarket.postQuery({ Aggregation: { sql, dataset: DATASET } }, FEE, 4, LOOSE, start + 60), ferdie);
  const query = posted.find(({ event }) => api.events.computeMarket.QueryPosted.is(event)).event.data.query.toNumber();

  let view;
  await waitFor(`query ${query} settled by the vote`, async () => {
    view = (await api.call.computeMarketApi.queriesOf(ferdie.address)).find((q) => q.id.toNumber() === query);
    return view?.status.isAnswered;
  }, { timeoutMs: 420_000, everyMs: 3_000 });
  const end = await bestBlock();
  const events = (await eventsBetween(start, end)).map(({ event }) => event);
  const ofQuery = (kind) => events.filter((e) => kind.is(e) && e.data.query.toNumber() === query).map((e) => e.data);

  // All four were drawn; the answers disagreed, so each became a claim.
  const [assigned] = ofQuery(api.events.computeMarket.QueryAssigned);
  assert.deepEqual(assigned.validators.map(String).sort(), Object.values(ADDR).sort());
  assert.equal(ofQuery(api.events.computeMarket.QueryDisputed)[0].claims.toNumber(), 4);

  // The votes: every claim decided by a committee of two of the other three validators' workers
  // (a committee that could not decide would be followed by a larger one: ClaimEscalated).
  const judged = Object.fromEntries(ofQuery(api.events.computeMarket.AnswerJudged).map((j) => [j.who.toString(), j.accepted.isTrue]));
  assert.deepEqual(judged, { [ADDR.alice]: true, [ADDR.bob]: true, [ADDR.charlie]: false, [ADDR.dave]: true });
  const opened = events.filter((e) => api.events.weightedVoting.ClaimOpened.is(e) && e.data.class.toString() === 'QueryResult');
  assert.equal(opened.length, 4);
  assert.deepEqual(opened.map((e) => e.data.voters.toNumber()), [2, 2, 2, 2], 'each claim drew a committee of two');
  const claims = opened.map((e) => e.data.claim.toNumber());
  const votes = events.filter((e) => api.events.weightedVoting.VoteRevealed.is(e) && claims.includes(e.data.claim.toNumber()));
  for (const e of opened) {
    const voters = votes.filter((v) => v.data.claim.eq(e.data.claim)).map((v) => v.data.voter.toString());
    assert.ok(!voters.includes(e.data.claimant.toString()), 'no claimant votes on its own answer');
  }
  const escalated = events.filter((e) => api.events.weightedVoting.ClaimEscalated.is(e) && claims.includes(e.data.claim.toNumber()));
  assert.ok(votes.length >= 8, `two revealed votes on each of the four claims, saw ${votes.length}`);
  assert.ok(escalated.length > 0 || votes.length === 8, `only the committees voted: ${votes.length} votes, no escalation`);

  // Ferdie gets the honest answer (one row per planted pattern and the normal one).
  const result = u8aToString(view.result.unwrap());
  assert.match(result, /^pattern\tn\tavg_amount\n/);
  assert.match(result, /\nnormal\t\d+\t/);
  assert.ok(!result.includes('forged'), 'the forged answer is not the result');
  assert.deepEqual(view.answerers.map(String).sort(), [ADDR.alice, ADDR.bob, ADDR.dave].sort());
  const paid = ofQuery(api.events.computeMarket.AnswerPaid);
  // One share per assigned answerer: Charlie's quarter goes back to Ferdie, not to the three
  // that outvoted him (so nobody gains by voting a true answer down).
  const share = (FEE - (FEE * PROTOCOL_PERCENT) / 100n) / 4n;
  assert.deepEqual(paid.map((p) => [p.who.toString(), p.amount.toBigInt()]).sort(),
    [[ADDR.alice, share], [ADDR.bob, share], [ADDR.dave, share]].sort());

  // Charlie is slashed and his reputation falls.
  const slashed = events.filter((e) => api.events.stakeReputation.Slashed.is(e) && e.data.who.toString() === ADDR.charlie);
  assert.equal(slashed.length, 1, 'Charlie slashed once');
  assert.ok(slashed[0].data.own.toBigInt() > 0n);
  const reputationAfter = (await api.call.stakeReputationApi.reputation(ADDR.charlie)).toNumber();
  assert.ok(reputationAfter < reputationBefore, `reputation ${reputationBefore} -> ${reputationAfter}`);
}

test('a flood of disputed answers waits for slots of its class: other classes keep opening, and every forged answer is still judged', { timeout: 900_000 }, async (t) => {
  // The QueryResult class is given 4 slots (96 on a real network), so that two queries all four
  // validators answer, with Charlie forging, fill it: 8 claims, 4 open at once, 4 wait.
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  // Alice's own worker signs with her key too: a nonce clash is retried.
  const { events: set } = await sendCheckedAs(api, () => api.tx.sudo.sudo(api.tx.weightedVoting.setClassQuota('QueryResult', 4)), alice);
  assert.ok(set.some(({ event }) => api.events.weightedVoting.ClassQuotaSet.is(event)), 'the quota was set');
  const start = await bestBlock();
  const sql = 'SELECT pattern, COUNT(*) AS n FROM transactions GROUP BY pattern ORDER BY pattern';
  const post = () => api.tx.computeMarket.postQuery({ Aggregation: { sql, dataset: DATASET } }, FEE, 4, LOOSE, start + 60);
  const { events: posted } = await sendChecked(api, api.tx.utility.batchAll([post(), post()]), ferdie);
  const queries = posted.filter(({ event }) => api.events.computeMarket.QueryPosted.is(event)).map(({ event }) => event.data.query.toNumber());
  assert.equal(queries.length, 2);

  // While the flood holds every QueryResult slot, a claim of another class opens at once: Ferdie
  // disputes data he bought from Eve. (The class stays full while its waiting claims take the
  // slots that free up: some 40 blocks, far more than the deal's four transactions.)
  await waitFor('the QueryResult class full and claims waiting', async () =>
    (await api.query.weightedVoting.openPerClass('QueryResult')).toNumber() === 4 && (await api.query.weightedVoting.claimQueue()).length > 0,
  { timeoutMs: 300_000, everyMs: 1_000 });
  const { dispute } = await deliveredDeal(api, { seller: new Keyring({ type: 'sr25519' }).addFromUri('//Eve'), buyer: ferdie });
  const { events: probe, blockHash: probedIn } = await sendChecked(api, dispute(), ferdie);
  const parent = await api.at((await api.rpc.chain.getHeader(probedIn)).parentHash);
  assert.equal((await parent.query.weightedVoting.openPerClass('QueryResult')).toNumber(), 4, 'the QueryResult class was full');
  assert.ok(probe.some(({ event }) => api.events.weightedVoting.ClaimOpened.is(event) && event.data.class.toString() === 'DataDispute'),
    'a claim of another class opened at once, not queued');
  assert.ok(!probe.some(({ event }) => api.events.weightedVoting.ClaimQueued.is(event)));

  // Every claim is decided in the end: the waiting ones open when slots free up, nothing is
  // refused, and both queries get the true answer; Charlie's two forged answers are rejected.
  for (const query of queries) {
    await waitFor(`query ${query} settled by the vote`, async () =>
      (await api.call.computeMarketApi.queriesOf(ferdie.address)).find((q) => q.id.toNumber() === query)?.status.isAnswered,
    { timeoutMs: 600_000, everyMs: 3_000 });
  }
  const events = (await eventsBetween(start, await bestBlock())).map(({ event }) => event);
  const of = (kind) => events.filter((e) => kind.is(e));
  const queued = of(api.events.weightedVoting.ClaimQueued).filter((e) => e.data.class.toString() === 'QueryResult');
  const opened = of(api.events.weightedVoting.ClaimOpened).filter((e) => e.data.class.toString() === 'QueryResult');
  t.diagnostic(`QueryResult claims: ${opened.length} opened, ${queued.length} of them waited first`);
  assert.ok(queued.length >= 1, 'part of the flood waited for a slot');
  assert.equal(opened.length, 8, 'all eight claims opened in the end');
  assert.deepEqual(of(api.events.computeMarket.QueryRefunded), [], 'no query was refunded: no forger escaped');
  const judged = of(api.events.computeMarket.AnswerJudged).filter((e) => queries.includes(e.data.query.toNumber()));
  assert.deepEqual(judged.filter((e) => e.data.accepted.isFalse).map((e) => e.data.who.toString()), [ADDR.charlie, ADDR.charlie]);
  assert.equal(judged.filter((e) => e.data.accepted.isTrue).length, 6);
  await sendCheckedAs(api, () => api.tx.sudo.sudo(api.tx.weightedVoting.setClassQuota('QueryResult', 96)), alice);
});

