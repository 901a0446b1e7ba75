// The builder market on the four-validator network: Ferdie deploys a fraud-detection task with
// a 1,000 LPX bounty over 2 rounds; Bob (a validator) submits a model update with its claimed AUC
// of 0.8 sealed; Alice, Charlie and Dave evaluate it and reveal AUC scores; Bob reveals his claim
// once their votes are committed; it lies within the ModelUpdate class's tolerance (1 %) of
// their stake-weighted median, so the claim is accepted and becomes version 1.
// The task's last round ends while the claim is in voting: the task is Finishing until the
// verdict, then round 0's budget (half the bounty) goes to Bob and the rest back to Ferdie. Bob lists
// version 1 through the data market; Eve buys it, Bob delivers, Eve confirms. Then the attacks on
// a second task: a copy of the version re-claimed at its own metric (accepted, unpaid, no
// reputation), a claim whose metric is never revealed (rejected, slashed), and a drawn voter that
// stays silent (loses reputation) next to one that abstains (loses nothing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, randomAsU8a } from '@polkadot/util-crypto';
import { LOCAL_RPC_PORTS, connect, dealKeyCommitment, localNet, sendChecked, subscribeEvents, tmpDir, waitFor, disposeNet } from '../lib/node.mjs';

const netDir = tmpDir('loopx-builder-net-');
const UNITS = 10n ** 12n;
const BOUNTY = 1_000n * UNITS;
const ZERO = `0x${'00'.repeat(32)}`;
let api;
let keys;
const seen = [];

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  keys = Object.fromEntries(['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((n) => [n.toLowerCase(), keyring.addFromUri(`//${n}`)]));
  localNet(netDir, 'start');
  api = await connect(LOCAL_RPC_PORTS.alice);
  await subscribeEvents(api, (_, events) => {
    for (const { event } of events) seen.push(event);
  });
});

after(async () => {
  await api?.disconnect().catch(() => {});
  try { localNet(netDir, 'stop'); } finally { disposeNet(netDir); }
});

const send = async (tx, signer, opts) => (await sendChecked(api, tx, signer, opts)).events;
// Local-network blocks are often replaced by a sibling of the same height (BABE secondary
// slots): what a transaction did is read in the block that included it, not the best block.
const stateAfter = async (tx, signer) => {
  const { events, blockHash } = await sendChecked(api, tx, signer);
  return { events, at: await api.at(blockHash) };
};
const eventOf = (events, kind) => events.find(({ event }) => kind.is(event))?.event.data;
const best = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const seenEvent = (kind, match) => seen.find((e) => kind.is(e) && match(e.data))?.data;

function spec(deadline, rank = 4) {
  return {
    architecture: { Classifier: { layers: [{ outModes: [8, 8], inModes: [4, 4], rank }, { outModes: [1], inModes: [64], rank: 1 }] } },
    precision: 'Int8',
    metric: 'Auc',
    target: 990_000,
    evalSet: randomAsU8a(32),
    hyper: { learningRatePpm: 10_000, batchSize: 64, localSteps: 20, seed: 42 },
    roundLength: 10,
    bounty: BOUNTY,
    trainers: { minStake: 0, minReputation: 100_000 },
    maxRounds: 2,
    deadline,
  };
}

let task;
let version;

test('a deployed task takes a validator\'s update, verified by the others, as version 1 and pays it', { timeout: 400_000 }, async () => {
  const { bob, ferdie } = keys;
  await send(api.tx.builderMarket.deployModel(spec((await best()) + 1_000, 0)), ferdie, { expectError: 'builderMarket.InvalidArchitecture' });
  const deployed = eventOf(await send(api.tx.builderMarket.deployModel(spec((await best()) + 1_000)), ferdie), api.events.builderMarket.TaskDeployed);
  task = deployed.task.toNumber();
  assert.equal(deployed.bounty.toBigInt(), BOUNTY);
  const active = await api.call.builderMarketApi.activeTasks();
  assert.ok(active.some((t) => t.id.toNumber() === task), 'the runtime API lists the task');

  // Ferdie is not a validator; Bob is. Bob's claimed AUC is sealed: no voter can copy it.
  await send(api.tx.builderMarket.submitUpdate(task, ZERO, randomAsU8a(32), randomAsU8a(32)), ferdie, { expectError: 'builderMarket.NotEligible' });
  const modelHash = randomAsU8a(32);
  const bobsSalt = randomAsU8a(32);
  const sealed = await api.call.weightedVotingApi.scoreSeal(bob.address, 800_000, bobsSalt);
  const { events, at } = await stateAfter(api.tx.builderMarket.submitUpdate(task, ZERO, modelHash, sealed), bob);
  const submitted = eventOf(events, api.events.builderMarket.UpdateSubmitted);
  const opened = eventOf(events, api.events.weightedVoting.ClaimOpened);
  const claim = submitted.claim.toNumber();
  assert.equal(opened.claim.toNumber(), claim);
  assert.equal(opened.class.toString(), 'ModelUpdate');
  assert.equal(opened.voters.toNumber(), 3, 'Alice, Charlie and Dave vote; the claimant does not');
  assert.ok((await at.query.weightedVoting.claims(claim)).unwrap().claimedScore.isNone, 'the claimed score is not shown');
  const forAlice = (await at.call.weightedVotingApi.claimsForVoter(keys.alice.address)).find((c) => c.claim.toNumber() === claim);
  assert.ok(forAlice.claimedScore.isNone, 'a voter sees no claimed score while votes are committed');
  await send(api.tx.weightedVoting.revealClaimedScore(claim, 800_000, bobsSalt), bob, { expectError: 'weightedVoting.RevealPeriodNotStarted' });

  // Alice, Charlie and Dave re-evaluate the model and reveal their AUC (within 1 % of the claim).
  const scores = { alice: 800_500, charlie: 799_000, dave: 800_000 };
  const salts = {};
  // A commit names the claim's own commitment (the claim the vote was worked out for).
  const claimed = (await at.query.weightedVoting.claims(claim)).unwrap().commitment;
  for (const [name, score] of Object.entries(scores)) {
    salts[name] = randomAsU8a(32);
    const c = await api.call.weightedVotingApi.voteCommitment(claim, keys[name].address, { Score: score }, salts[name]);
    await send(api.tx.weightedVoting.commitVote(claim, claimed, c), keys[name]);
  }
  const commitEnd = opened.commitEnd.toNumber();
  await waitFor(`block ${commitEnd}`, async () => (await best()) >= commitEnd, { timeoutMs: 120_000, everyMs: 1_000 });
  for (const [name, score] of Object.entries(scores)) {
    await send(api.tx.weightedVoting.revealVote(claim, { Score: score }, salts[name]), keys[name]);
  }
  // Every vote is in: Bob reveals what he claimed (only what he sealed).
  await send(api.tx.weightedVoting.revealClaimedScore(claim, 810_000, bobsSalt), bob, { expectError: 'weightedVoting.SealMismatch' });
  const revealed = eventOf(await send(api.tx.weightedVoting.revealClaimedScore(claim, 800_000, bobsSalt), bob), api.events.weightedVoting.ClaimedScoreRevealed);
  assert.equal(revealed.score.toNumber(), 800_000);

  // Meanwhile both rounds ended: the task waits for the verdict before it ends.
  const finishing = await waitFor('the task to finish its rounds', () => seenEvent(api.events.builderMarket.TaskFinishing, (d) => d.task.toNumber() === task),
    { timeoutMs: 120_000 });
  assert.equal(finishing.reason.toString(), 'MaxRounds');
  const accepted = await waitFor('the verdict', () => seenEvent(api.events.builderMarket.VersionAccepted, (d) => d.task.toNumber() === task),
    { timeoutMs: 150_000 });
  // The stake-weighted median: Charlie's 5 units are cut to 40 % of the claim (2 of 5 units, with
  // Alice 1 and Dave 2), so Dave's score is the median, not Charlie's.
  assert.equal(accepted.metric.toNumber(), 800_000);
  version = accepted.version.toNumber();
  assert.equal(version, 1);
  assert.deepEqual((await api.call.builderMarketApi.versions(task)).map(([n, h, m, who]) => [n.toNumber(), h.toHex(), m.toNumber(), who.map(String)]),
    [[1, `0x${Buffer.from(modelHash).toString('hex')}`, 800_000, [bob.address]]]);

  // Round 0's budget is the bounty over the 2 rounds; the rest and the deposit go back.
  const paid = await waitFor('the payout', () => seenEvent(api.events.builderMarket.TrainerPaid, (d) => d.task.toNumber() === task));
  assert.equal(paid.trainer.toString(), bob.address);
  assert.equal(paid.amount.toBigInt(), BOUNTY / 2n);
  const ended = await waitFor('the end', () => seenEvent(api.events.builderMarket.TaskEnded, (d) => d.task.toNumber() === task));
  assert.equal(ended.refunded.toBigInt(), BOUNTY / 2n + 10n * UNITS);
  assert.equal((await api.call.builderMarketApi.task(task)).unwrap().status.toString(), 'Ended');
});

test('the trained version is listed and bought through the data market', { timeout: 200_000 }, async () => {
  const { bob, eve, ferdie } = keys;
  assert.ok(version, 'the previous test accepted a version');
  await send(api.tx.dataMarket.registerKey(randomAsU8a(32)), bob);
  await send(api.tx.dataMarket.registerKey(randomAsU8a(32)), eve);
  const expires = (await best()) + 200;
  await send(api.tx.builderMarket.listVersion(task, version, 50n * UNITS, 1, expires), eve, { expectError: 'builderMarket.NotHolder' });
  const listed = eventOf(await send(api.tx.builderMarket.listVersion(task, version, 50n * UNITS, 1, expires), bob), api.events.builderMarket.VersionListed);
  const tag = `model/${task}/${version}`;
  const [offer] = await api.call.dataMarketApi.bestOrders(tag, 'Offer', 5);
  assert.equal(offer.id.toNumber(), listed.order.toNumber());
  assert.equal(offer.goods.unwrap().kind.toString(), 'TrainedModel');

  const matched = eventOf(await send(api.tx.dataMarket.postBid(tag, 50n * UNITS, 1, expires, null), eve), api.events.dataMarket.DealMatched);
  assert.equal(matched.seller.toString(), bob.address);
  const deal = matched.deal.toNumber();
  await send(api.tx.dataMarket.deliver(deal, randomAsU8a(32), dealKeyCommitment(deal, randomAsU8a(32))), bob);
  const settled = eventOf(await send(api.tx.dataMarket.confirm(deal), eve), api.events.dataMarket.DealSettled);
  assert.equal(settled.toSeller.toBigInt(), 49n * UNITS, '50 LPX less the 2 % protocol fee');
  assert.ok(ferdie, 'the builder could list it too');
});

/** Commits and reveals `scores` (name → score, or 'Abstain') on `claim` for those voters. */
async function vote({ claim, claimed, commitEnd }, scores) {
  const salts = {};
  const verdict = (s) => (s === 'Abstain' ? 'Abstain' : { Score: s });
  for (const [name, score] of Object.entries(scores)) {
    salts[name] = randomAsU8a(32);
    const c = await api.call.weightedVotingApi.voteCommitment(claim, keys[name].address, verdict(score), salts[name]);
    await send(api.tx.weightedVoting.commitVote(claim, claimed, c), keys[name]);
  }
  return async () => {
    await waitFor(`block ${commitEnd}`, async () => (await best()) >= commitEnd, { timeoutMs: 120_000, everyMs: 1_000 });
    for (const [name, score] of Object.entries(scores)) {
      await send(api.tx.weightedVoting.revealVote(claim, verdict(score), salts[name]), keys[name]);
    }
  };
}

/** Submits an update of `task` for `who` with `metric` sealed; the claim, its opening event and the salt. */
async function submitSealed(who, task, parent, metric) {
  const salt = randomAsU8a(32);
  const sealed = await api.call.weightedVotingApi.scoreSeal(keys[who].address, metric, salt);
  const { events, at } = await stateAfter(api.tx.builderMarket.submitUpdate(task, parent, randomAsU8a(32), sealed), keys[who]);
  const opened = eventOf(events, api.events.weightedVoting.ClaimOpened);
  const claim = opened.claim.toNumber();
  // A vote names the claim's own commitment, as the block that opened it has it.
  const claimed = (await at.query.weightedVoting.claims(claim)).unwrap().commitment;
  return { claim, claimed, commitEnd: opened.commitEnd.toNumber(), salt };
}

const reputation = async (who) => (await api.call.stakeReputationApi.reputation(keys[who].address)).toNumber();
const bonded = async (who) => (await api.query.stakeReputation.ledgers(keys[who].address)).unwrap().active.toBigInt();
const decidedEvent = (kind, claim) => waitFor(`claim ${claim} decided`, () => seenEvent(kind, (d) => d.claim.toNumber() === claim), { timeoutMs: 200_000 });

test('an unchanged model earns nothing, a withheld metric is slashed, a silent voter loses reputation', { timeout: 600_000 }, async () => {
  const { ferdie } = keys;
  const deployedAt = await best();
  // One round, long enough for a version to be accepted within it and claimed on.
  const deployed = eventOf(await send(api.tx.builderMarket.deployModel({ ...spec((await best()) + 2_000), roundLength: 70, maxRounds: 1 }), ferdie),
    api.events.builderMarket.TaskDeployed);
  const attacked = deployed.task.toNumber();

  // Charlie's update at AUC 0.8 becomes version 1.
  const first = await submitSealed('charlie', attacked, ZERO, 800_000);
  await (await vote(first, { alice: 800_000, bob: 800_000, dave: 800_000 }))();
  await send(api.tx.weightedVoting.revealClaimedScore(first.claim, 800_000, first.salt), keys.charlie);
  // The version as the best block has it (an event seen on a fork's block is not enough).
  const v1 = await waitFor('version 1', async () => (await api.call.builderMarketApi.task(attacked)).unwrap().current.unwrapOr(null),
    { timeoutMs: 200_000, everyMs: 1_000 });
  assert.equal(v1.metric.toNumber(), 800_000);
  const parent = v1.hash_; // polkadot.js names the field `hash_`: `.hash` is the codec's own hash

  // Bob re-encodes version 1 (a new hash, the same model) and claims its true metric; Dave
  // claims 0.9 and never reveals it (he would have to stand by what voters do not measure).
  const copy = await submitSealed('bob', attacked, parent, 800_000);
  const withheld = await submitSealed('dave', attacked, parent, 900_000);
  const before = { bob: await reputation('bob'), daveBond: await bonded('dave') };
  // Alice and Charlie judge the copy; Dave abstains on it. On Dave's claim Alice stays silent
  // (the lazy voter's cheapest move); Bob and Charlie judge it.
  const revealCopy = await vote(copy, { alice: 800_000, charlie: 800_000, dave: 'Abstain' });
  const revealWithheld = await vote(withheld, { bob: 800_000, charlie: 800_000 });
  await revealCopy();
  await revealWithheld();
  await send(api.tx.weightedVoting.revealClaimedScore(copy.claim, 800_000, copy.salt), keys.bob);

  const notImproving = await decidedEvent(api.events.weightedVoting.ClaimNotImproving, copy.claim);
  assert.equal(notImproving.bound.score.toNumber(), 800_000, 'the copy had to beat its parent');
  const unpaid = await decidedEvent(api.events.builderMarket.UpdateNotImproving, copy.claim);
  assert.equal(unpaid.verified.toNumber(), 800_000);
  const rejected = await decidedEvent(api.events.weightedVoting.ClaimedScoreWithheld, withheld.claim);
  assert.equal(rejected.claimant.toString(), keys.dave.address);
  const decided = await decidedEvent(api.events.weightedVoting.ClaimDecided, withheld.claim);
  assert.equal(decided.decision.outcome.toString(), 'Rejected');
  assert.ok((await bonded('dave')) < before.daveBond, 'Dave is slashed for the claim he would not stand by');
  // Bob gained nothing for the copy (his vote on Dave's claim agreed: +1,000 at most).
  assert.ok((await reputation('bob')) <= before.bob + 1_000, 'no claimant reward for the copy');
  // Read from the canonical chain: `seen` has the events of every best block, a replaced
  // fork's too, so one penalty could be seen twice.
  const notVoted = [];
  for (let n = deployedAt; n <= (await best()); n++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    for (const { event: e } of await at.query.system.events()) {
      if (api.events.stakeReputation.ReputationChanged.is(e) && e.data.reason.toString() === 'NotVoted') notVoted.push(e.data.who.toString());
    }
  }
  assert.deepEqual(notVoted, [keys.alice.address], 'Alice, drawn and silent, lost reputation; Dave abstained: nothing happens to him');
  // The round pays Charlie's improvement only.
  const paid = await waitFor('the round paid', () => seenEvent(api.events.builderMarket.RoundPaid, (d) => d.task.toNumber() === attacked),
    { timeoutMs: 120_000 });
  assert.equal(paid.updates.toNumber(), 1);
  // `seen` may hold one payment twice (a block and the sibling that replaced it): who, not how often.
  const payees = new Set(seen.filter((e) => api.events.builderMarket.TrainerPaid.is(e) && e.data.task.toNumber() === attacked).map((e) => e.data.trainer.toString()));
  assert.deepEqual([...payees], [keys.charlie.address], 'nothing paid for the copy');
});
