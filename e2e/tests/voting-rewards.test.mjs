// Weighted voting and rewards on the four-validator network: Eve disputes data she bought from
// Ferdie, which opens a DataDispute claim with Ferdie as claimant (root first gives the class
// the test's periods and slash); Alice, Bob, Charlie and Dave commit and reveal (Alice and Charlie: invalid, Bob and Dave: valid; stakes 1 : 2 : 5 : 2 with
// equal reputations, Charlie's half cut to the 40 % a voter may hold of a claim, so 13/25 of the
// weight says invalid); the claim is rejected, Ferdie is
// slashed, the voters' reputations move, and at the era's end the voters on the side of the
// outcome are paid their verification share next to everyone's block-authoring share.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, randomAsU8a } from '@polkadot/util-crypto';
import { openDataDispute } from '../lib/claims.mjs';
import { referendum } from '../lib/governance.mjs';
import { LOCAL_RPC_PORTS, connect, heads, localNet, localNetWithEnv, sendChecked, tmpDir, waitFor, disposeNet } from '../lib/node.mjs';

const netDir = tmpDir('loopx-voting-net-');
const UNITS = 10n ** 12n;
const VERIFICATION = 2; // index of ContributionCategory::Verification
let api;
let keys;

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  keys = Object.fromEntries(['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((n) => [n.toLowerCase(), keyring.addFromUri(`//${n}`)]));
  // Root sets the class parameters: the local spec plus a sudo key (the local preset has none).
  localNetWithEnv({ LOOPX_NO_WORKERS: '1', LOOPX_TEST_SUDO: '1' }, netDir, 'start');
  api = await connect(LOCAL_RPC_PORTS.alice);
  // Disputes decided in 10 + 10 blocks, a rejected seller losing 10 % of his bond.
  const params = (await api.query.weightedVoting.classParameters('DataDispute')).unwrap().toJSON();
  const quick = { ...params, commitPeriod: 10, revealPeriod: 10, slash: 100_000_000 };
  await sendChecked(api, api.tx.sudo.sudo(api.tx.weightedVoting.setClassParams('DataDispute', quick)), keys.alice);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  try { localNet(netDir, 'stop'); } finally { disposeNet(netDir); }
});

/** Submits `tx` signed by `signer`; returns its events, asserting success unless `expectError`. */
const send = async (tx, signer, opts) => (await sendChecked(api, tx, signer, opts)).events;

const best = async () => (await heads(api)).best;
const reputation = async (who) => (await api.call.stakeReputationApi.reputation(who.address)).toNumber();

let claimId;
let decidedEra;

test('a rejected claim slashes its claimant and moves the voters\' reputations', { timeout: 300_000 }, async () => {
  const { alice, bob, eve, ferdie } = keys;
  await send(api.tx.stakeReputation.bond(100n * UNITS), ferdie);
  assert.equal((await api.query.stakeReputation.ledgers(ferdie.address)).unwrap().active.toBigInt(), 100n * UNITS);

  // Eve disputes what Ferdie sold her: Ferdie claims his delivery is what he offered.
  const { opened, deal } = await openDataDispute(api, { seller: ferdie, buyer: eve });
  claimId = opened.claim.toNumber();
  assert.equal(opened.class.toString(), 'DataDispute');
  assert.equal(opened.voters.toNumber(), 4, 'Alice, Bob, Charlie and Dave vote (Eve, the buyer, is no validator)');
  assert.equal(opened.claimant.toString(), ferdie.address);
  const commitEnd = opened.commitEnd.toNumber();
  const revealEnd = opened.revealEnd.toNumber();

  const verdicts = { alice: 'Invalid', bob: 'Valid', charlie: 'Invalid', dave: 'Valid' };
  const salts = {};
  // A commit names the claim's own commitment, so that it cannot land on another claim.
  const claimed = (await api.query.weightedVoting.claims(claimId)).unwrap().commitment;
  // Sent side by side, one signer each (the commit period is 10 blocks, and waiting for the
  // claim to be final took some of them); the claimant may not vote.
  await Promise.all([
    send(api.tx.weightedVoting.commitVote(claimId, randomAsU8a(32), randomAsU8a(32)), eve, { expectError: 'weightedVoting.NotTheClaimJudged' }),
    send(api.tx.weightedVoting.commitVote(claimId, claimed, randomAsU8a(32)), ferdie, { expectError: 'weightedVoting.ClaimantCannotVote' }),
    ...Object.entries(verdicts).map(async ([name, verdict]) => {
      salts[name] = randomAsU8a(32);
      const c = await api.call.weightedVotingApi.voteCommitment(claimId, keys[name].address, verdict, salts[name]);
      await send(api.tx.weightedVoting.commitVote(claimId, claimed, c), keys[name]);
    }),
  ]);
  // A second commit is refused.
  await send(api.tx.weightedVoting.commitVote(claimId, claimed, randomAsU8a(32)), alice, { expectError: 'weightedVoting.AlreadyCommitted' });
  const open = await api.call.weightedVotingApi.claimsForVoter(alice.address);
  assert.ok(open.some((c) => c.claim.toNumber() === claimId && c.committed.isTrue), 'the runtime API lists the claim for Alice');

  await waitFor(`block ${commitEnd}`, async () => (await best()) >= commitEnd, { timeoutMs: 90_000, everyMs: 1_000 });
  await Promise.all(Object.entries(verdicts).map(async ([name, verdict]) => {
    if (name === 'alice') {
      // A reveal that does not match its commitment is refused.
      await send(api.tx.weightedVoting.revealVote(claimId, 'Valid', salts.alice), alice, { expectError: 'weightedVoting.RevealMismatch' });
    }
    await send(api.tx.weightedVoting.revealVote(claimId, verdict, salts[name]), keys[name]);
  }));
  const running = await api.call.weightedVotingApi.tally(claimId);
  assert.equal(running.unwrap().revealed.toNumber(), 4);

  const before = { alice: await reputation(alice), bob: await reputation(bob), ferdie: await reputation(ferdie) };
  await waitFor(`the tally at block ${revealEnd}`, async () => (await api.call.weightedVotingApi.tally(claimId)).unwrap().decision.isSome,
    { timeoutMs: 90_000, everyMs: 1_000 });
  const claim = (await api.call.weightedVotingApi.claim(claimId)).unwrap();
  const { decision, at } = claim.status.asDecided;
  // Weights 1 : 2 : 10/3 : 2 (Charlie's 5 capped at 40 % of the claim): Valid holds 12/25 of the
  // revealed weight, not more than the 50 % approval threshold.
  assert.equal(decision.outcome.type, 'Rejected');
  const agreeingPercent = (decision.agreeingWeight.toBigInt() * 100n) / decision.revealedWeight.toBigInt();
  assert.ok(agreeingPercent === 51n || agreeingPercent === 52n, `13/25 of the weight agreed, not ${agreeingPercent} %`);
  const decidedAt = await api.rpc.chain.getBlockHash(at.toNumber());
  decidedEra = (await (await api.at(decidedAt)).query.rewards.currentEra()).toNumber();

  // Ferdie lost 10 % of his bond to the treasury, and reputation.
  assert.equal((await api.query.stakeReputation.ledgers(ferdie.address)).unwrap().active.toBigInt(), 90n * UNITS);
  // A fresh account starts at the validator minimum (100,000), not at neutral; the slash's
  // 100,000 and the claim's penalty take it all.
  assert.equal(before.ferdie, 100_000, 'Ferdie, a new account, started at the validator minimum');
  assert.equal(await reputation(ferdie), 0, 'Ferdie lost the slash and the claim penalties');
  assert.ok((await reputation(alice)) > before.alice, 'Alice voted with the outcome');
  assert.ok((await reputation(bob)) < before.bob, 'Bob voted against it');
  // The data market acted on the verdict: Eve was refunded and given Ferdie's seller bond.
  const refunded = (await (await api.at(await api.rpc.chain.getBlockHash(at.toNumber()))).query.system.events())
    .find(({ event }) => api.events.dataMarket.DealRefunded.is(event) && event.data.deal.toNumber() === deal)?.event.data;
  assert.equal(refunded?.reason.toString(), 'DisputeLost');
  assert.equal(refunded.buyer.toString(), eve.address);
  assert.equal((await api.query.dataMarket.deals(deal)).isNone, true);
});

test('at the era\'s end the voters with the outcome are paid their verification share', { timeout: 300_000 }, async () => {
  const { alice, bob } = keys;
  assert.ok(decidedEra !== undefined, 'the claim was decided');
  await waitFor(`era ${decidedEra} to end`, async () => (await api.query.rewards.currentEra()).toNumber() > decidedEra,
    { timeoutMs: 120_000, everyMs: 2_000 });

  // Four validators fork now and then, and points and fees differ between forks (whoever
  // authored the blocks). So every expectation is read from the state the claim executed on:
  // the parent of the block that included it.
  const verificationShare = {};
  for (const [name, who] of Object.entries({ alice, bob })) {
    const { events, blockHash, fee } = await sendChecked(api, api.tx.rewards.claimRewards(decidedEra), who);
    const parent = (await api.rpc.chain.getHeader(blockHash)).parentHash;
    const [before, after] = [await api.at(parent), await api.at(blockHash)];
    const summary = (await before.query.rewards.eras(decidedEra)).unwrap();
    const budgets = summary.budgets.map((b) => b.toBigInt());
    const totals = summary.totals.map((t) => t.toBigInt());
    const points = (await before.query.rewards.accountPoints(decidedEra, who.address)).unwrap().map((p) => p.toBigInt());
    const expected = points.reduce((sum, p, k) => (totals[k] > 0n ? sum + (budgets[k] * p) / totals[k] : sum), 0n);
    assert.equal(summary.carriedIn.toBigInt() + summary.minted.toBigInt() + summary.fees.toBigInt() + summary.other.toBigInt(),
      summary.allocated.toBigInt() + summary.carriedOut.toBigInt() + summary.spent.toBigInt(), 'the era\'s accounts balance');
    assert.ok(budgets[VERIFICATION] > 0n, 'the verification category has a budget');
    if (name === 'alice') assert.equal(points[VERIFICATION], 10n, 'Alice voted with the outcome');
    else assert.equal(points[VERIFICATION], 0n, 'Bob voted against the outcome');
    verificationShare[name] = (budgets[VERIFICATION] * points[VERIFICATION]) / totals[VERIFICATION];

    const pending = (await before.call.rewardsApi.pendingRewards(who.address)).find(([era]) => era.toNumber() === decidedEra);
    assert.equal(pending[1].toBigInt(), expected, `${name}'s pending reward`);
    const rewarded = events.find(({ event }) => api.events.rewards.Rewarded.is(event)).event.data;
    assert.equal(rewarded.amount.toBigInt(), expected);
    const free0 = (await before.query.system.account(who.address)).data.free.toBigInt();
    const free1 = (await after.query.system.account(who.address)).data.free.toBigInt();
    assert.equal(free1 - free0, expected - fee, `${name} received the reward`);
  }
  // Alice and Charlie (10 points each) split the verification budget; Bob has none of it.
  assert.ok(verificationShare.alice > 0n);
  assert.equal(verificationShare.bob, 0n);
  await send(api.tx.rewards.claimRewards(decidedEra), alice, { expectError: 'rewards.NothingToClaim' });
});

test('a committee of two of the four validators, drawn from the block\'s randomness, decides a claim alone', { timeout: 300_000 }, async () => {
  const { alice, ferdie } = keys;
  const validators = ['alice', 'bob', 'charlie', 'dave'];
  await send(api.tx.sudo.sudo(api.tx.weightedVoting.setCommitteeSize('DataDispute', 2)), alice);
  try {
    // The committee is drawn with the VRF output of the block the claim opens in:
    // openDataDispute reads it where the finalized chain opened it.
    const { opened, blockHash } = await openDataDispute(api, { seller: ferdie, buyer: keys.eve });
    const id = opened.claim.toNumber();
    assert.equal(opened.voters.toNumber(), 2, 'two of the four validators are drawn');
    // Ballots are kept per (claim, voter).
    const at = await api.at(blockHash);
    const committee = (await at.query.weightedVoting.ballots.keys(id)).map(({ args: [, who] }) => who.toString());
    assert.equal((await at.query.weightedVoting.electorateSizes(id)).toNumber(), 2);
    const members = validators.filter((n) => committee.includes(keys[n].address));
    assert.equal(members.length, 2, `the committee is two distinct validators: ${committee}`);
    const outsider = validators.find((n) => !members.includes(n));
    const claimed = (await at.query.weightedVoting.claims(id)).unwrap().commitment;
    // A validator outside the committee cannot vote on the claim (sent beside the members'
    // commits: the commit period is 10 blocks and finality took some of them).
    const refused = send(api.tx.weightedVoting.commitVote(id, claimed, randomAsU8a(32)), keys[outsider], { expectError: 'weightedVoting.NotEligible' });
    const salts = {};
    await Promise.all([refused, ...members.map(async (name) => {
      salts[name] = randomAsU8a(32);
      const c = await api.call.weightedVotingApi.voteCommitment(id, keys[name].address, 'Valid', salts[name]);
      if (name === members[0]) {
        // The first member votes through a batch (as workers do), with a vote on a claim that
        // does not exist beside it: that one fails alone, with its error.
        const batch = [{ claim: id, claimCommitment: claimed, commitment: c }, { claim: 999_999, claimCommitment: claimed, commitment: c }];
        const batchEvents = await send(api.tx.weightedVoting.commitVotes(batch), keys[name]);
        assert.ok(batchEvents.some(({ event }) => api.events.weightedVoting.VoteCommitted.is(event) && event.data.claim.toNumber() === id));
        const failed = batchEvents.find(({ event }) => api.events.weightedVoting.VoteFailed.is(event))?.event.data;
        assert.equal(failed?.claim.toNumber(), 999_999);
        assert.equal(api.registry.findMetaError(failed.error.asModule).name, 'UnknownClaim');
      } else {
        await send(api.tx.weightedVoting.commitVote(id, claimed, c), keys[name]);
      }
    })]);
    await waitFor(`block ${opened.commitEnd.toNumber()}`, async () => (await best()) >= opened.commitEnd.toNumber(), { timeoutMs: 90_000, everyMs: 1_000 });
    await send(api.tx.weightedVoting.revealVotes([{ claim: id, verdict: 'Valid', salt: salts[members[0]] }]), keys[members[0]]);
    await send(api.tx.weightedVoting.revealVote(id, 'Valid', salts[members[1]]), keys[members[1]]);
    await waitFor('the committee\'s decision', async () => (await api.call.weightedVotingApi.tally(id)).unwrap().decision.isSome,
      { timeoutMs: 90_000, everyMs: 1_000 });
    const { decision } = (await api.call.weightedVotingApi.claim(id)).unwrap().status.asDecided;
    assert.equal(decision.outcome.type, 'Accepted', 'the two drawn validators decided');
    assert.equal(decision.revealedWeight.toBigInt(), opened.eligibleWeight.toBigInt(), 'all of the committee\'s weight revealed');
  } finally {
    // Back to the local genesis' 16 (more than the four validators: all of them vote).
    await send(api.tx.sudo.sudo(api.tx.weightedVoting.setCommitteeSize('DataDispute', 16)), alice);
  }
});

test('a deferred slash is cancelled by a referendum on the slash_canceller track before it lands', { timeout: 420_000 }, async () => {
  const { alice, eve, ferdie } = keys;
  // Root defers slashes by 8 one-minute sessions (the bonding duration is 10).
  await send(api.tx.sudo.sudo(api.tx.stakeReputation.setSlashDeferSessions(8)), alice);
  try {
    const bond = (await api.query.stakeReputation.ledgers(ferdie.address)).unwrap().active.toBigInt();
    const { opened } = await openDataDispute(api, { seller: ferdie, buyer: eve });
    const id = opened.claim.toNumber();
    const claimed = (await api.query.weightedVoting.claims(id)).unwrap().commitment;
    const salts = {};
    const validators = ['alice', 'bob', 'charlie', 'dave'];
    await Promise.all(validators.map(async (name) => {
      salts[name] = randomAsU8a(32);
      const c = await api.call.weightedVotingApi.voteCommitment(id, keys[name].address, 'Invalid', salts[name]);
      await send(api.tx.weightedVoting.commitVote(id, claimed, c), keys[name]);
    }));
    await waitFor(`block ${opened.commitEnd.toNumber()}`, async () => (await best()) >= opened.commitEnd.toNumber(), { timeoutMs: 90_000, everyMs: 1_000 });
    await Promise.all(validators.map((name) => send(api.tx.weightedVoting.revealVote(id, 'Invalid', salts[name]), keys[name])));

    // The claim is rejected: Ferdie's slash is deferred, his funds untouched for now.
    const applyAt = await waitFor('Ferdie\'s slash deferred', async () => {
      for (const [key, due] of await api.query.stakeReputation.deferredSlashes.entries()) {
        if (due.some((d) => d.who.toString() === ferdie.address)) return key.args[0].toNumber();
      }
      return undefined;
    }, { timeoutMs: 120_000, everyMs: 1_000 });
    assert.equal((await api.query.stakeReputation.pendingSlashes(ferdie.address)).toNumber(), 1);
    assert.equal((await api.query.stakeReputation.ledgers(ferdie.address)).unwrap().active.toBigInt(), bond, 'nothing taken yet');

    // Governance finds the verdict wrong: a referendum on slash_canceller (Eve and Ferdie vote).
    const track = api.consts.referenda.tracks.find(([id]) => id.toNumber() === 3)[1];
    assert.equal(track.name.toString().replace(/\0+$/, ''), 'slash_canceller');
    const index = await referendum(api, api.tx.stakeReputation.cancelDeferredSlash(applyAt, ferdie.address), { Origins: 'SlashCanceller' }, [eve, ferdie]);
    await waitFor('the slash cancelled', async () => (await api.query.stakeReputation.pendingSlashes(ferdie.address)).toNumber() === 0,
      { timeoutMs: 240_000, everyMs: 2_000 });
    const due = await api.query.stakeReputation.deferredSlashes(applyAt);
    assert.ok(!due.some((d) => d.who.toString() === ferdie.address), 'no slash of Ferdie is due any more');
    assert.ok((await api.query.referenda.referendumInfoFor(index)).unwrap().isApproved, 'by the referendum');
    const session = (await api.query.session.currentIndex()).toNumber();
    assert.ok(session < applyAt, `cancelled in session ${session}, before session ${applyAt}`);
    assert.equal((await api.query.stakeReputation.ledgers(ferdie.address)).unwrap().active.toBigInt(), bond, 'Ferdie keeps his bond');
  } finally {
    await send(api.tx.sudo.sudo(api.tx.stakeReputation.setSlashDeferSessions(0)), alice);
  }
});
