// OpenGov on the dev chain, as a polkadot.js client meets it: a parameter change passes its
// track (`parameter_admin`) and is enacted by the scheduler; the technical committee whitelists
// a root call and a referendum on the fast `whitelisted_caller` track dispatches it; a referendum
// on a track whose origin may not make the call passes but changes nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, blake2AsHex } from '@polkadot/util-crypto';
import { referendum as governanceReferendum } from '../lib/governance.mjs';
import { startDevNode, sendChecked, waitFor, subscribeEvents } from '../lib/node.mjs';

let node;
let api;
let keys;
const seen = []; // [blockNumber, event] of every best block since the start

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  keys = Object.fromEntries(['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((n) => [n.toLowerCase(), keyring.addFromUri(`//${n}`)]));
  node = await startDevNode();
  api = node.api;
  await subscribeEvents(api, (header, records) => {
    for (const { event } of records) seen.push([header.number.toNumber(), event]);
  });
});

after(async () => {
  await node?.stop();
});

/** A referendum (lib/governance.mjs); Eve pays and votes with Ferdie unless told otherwise. */
const referendum = (call, origin, voters = [keys.eve, keys.ferdie]) => governanceReferendum(api, call, origin, voters);

const event = (pred) => seen.find(([, e]) => pred(e));

// The two run at the same time (their referenda mostly wait for blocks), with different accounts.
describe('governance', { concurrency: true }, () => {
  test('a parameter change passes the parameter_admin track and is enacted; its origin cannot cancel a slash', { timeout: 420_000 }, async () => {
    const quota = api.tx.weightedVoting.setClassQuota('EvaluationScore', 7);
    const track = api.consts.referenda.tracks.find(([id]) => id.toNumber() === 2)[1];
    assert.equal(track.name.toString().replace(/\0+$/, ''), 'parameter_admin'); // NUL-padded to 25 bytes
    const index = await referendum(quota, { Origins: 'ParameterAdmin' });
    // The same track asked to cancel a slash: it may pass, but its origin is refused.
    const bob = keys.bob.address;
    const misuse = await referendum(api.tx.stakeReputation.cancelDeferredSlash(1, bob), { Origins: 'ParameterAdmin' });
    const info = await api.query.referenda.referendumInfoFor(index);
    assert.equal(info.unwrap().asOngoing.track.toNumber(), 2);

    const confirmed = await waitFor('the referendum confirmed', async () => event((e) => api.events.referenda.Confirmed.is(e) && e.data.index.toNumber() === index), { timeoutMs: 300_000, everyMs: 2_000 });
    const [confirmedAt] = confirmed;
    const [enactedAt, quotaSet] = await waitFor('the quota set', async () => event((e) => api.events.weightedVoting.ClassQuotaSet.is(e)), { timeoutMs: 120_000, everyMs: 2_000 });
    assert.equal(quotaSet.data.quota.toNumber(), 7);
    assert.ok(enactedAt - confirmedAt >= track.minEnactmentPeriod.toNumber(), `enacted at #${enactedAt}, confirmed at #${confirmedAt}`);
    assert.equal((await api.query.weightedVoting.classQuotas('EvaluationScore')).toString(), '7');

    // The misused referendum is dispatched with `ParameterAdmin` and fails with BadOrigin.
    await waitFor('the misused referendum approved', async () => (await api.query.referenda.referendumInfoFor(misuse)).unwrap().isApproved, { timeoutMs: 120_000, everyMs: 2_000 });
    const dispatched = await waitFor('its dispatch', async () => seen.filter(([, e]) => api.events.scheduler.Dispatched.is(e)).find(([, e]) => e.data.result.isErr), { timeoutMs: 60_000, everyMs: 2_000 });
    assert.ok(dispatched[1].data.result.asErr.isBadOrigin, dispatched[1].data.result.toString());
  });

  test('the technical committee whitelists a root call and the whitelisted_caller track dispatches it quickly', { timeout: 420_000 }, async () => {
    const { alice, bob } = keys;
    // A root-only call: stake-reputation's slash deferral (root or parameter_admin).
    const call = api.tx.stakeReputation.setSlashDeferSessions(2);
    const callHash = blake2AsHex(call.method.toHex(), 256);
    const whitelist = api.tx.whitelist.whitelistCall(callHash);
    const members = (await api.query.technicalCommittee.members()).map(String);
    assert.ok(members.includes(alice.address) && members.includes(bob.address), 'Alice and Bob sit on the technical committee');

    const { events } = await sendChecked(api, api.tx.technicalCommittee.propose(2, whitelist, whitelist.method.encodedLength), alice);
    const proposed = events.find(({ event }) => api.events.technicalCommittee.Proposed.is(event)).event.data;
    const [proposalHash, proposalIndex] = [proposed.proposalHash, proposed.proposalIndex];
    await sendChecked(api, api.tx.technicalCommittee.vote(proposalHash, proposalIndex, true), alice);
    await sendChecked(api, api.tx.technicalCommittee.vote(proposalHash, proposalIndex, true), bob);
    const closed = await sendChecked(api, api.tx.technicalCommittee.close(proposalHash, proposalIndex, { refTime: 1_000_000_000, proofSize: 100_000 }, whitelist.method.encodedLength), alice);
    assert.ok(closed.events.some(({ event }) => api.events.whitelist.CallWhitelisted.is(event)), 'whitelist.CallWhitelisted');

    const index = await referendum(api.tx.whitelist.dispatchWhitelistedCallWithPreimage(call), { Origins: 'WhitelistedCaller' }, [keys.charlie, keys.dave]);
    const [doneAt] = await waitFor('the whitelisted call dispatched', async () => event((e) => api.events.whitelist.WhitelistedCallDispatched.is(e)), { timeoutMs: 300_000, everyMs: 2_000 });
    assert.equal((await api.query.stakeReputation.slashDeferSessions()).toNumber(), 2);
    const submittedAt = seen.find(([, e]) => api.events.referenda.Submitted.is(e) && e.data.index.toNumber() === index)[0];
    // One minute of preparation and one of confirmation (20 blocks each), one block to enact.
    assert.ok(doneAt - submittedAt < 60, `dispatched ${doneAt - submittedAt} blocks after submission`);
  });
});
