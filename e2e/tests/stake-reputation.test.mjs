// Stake × reputation on the three-validator network (local preset: stakes 1 : 2 : 5, equal
// reputation): the runtime's elected weights, BABE's authority weights and GRANDPA's voter
// weights, their reaction to governance changing a reputation and to a slash, and finality
// across session changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, heads, localNet, submitAndWatch, tmpDir, waitFor } from '../lib/node.mjs';

const netDir = tmpDir('loopx-stake-net-');
let api;
let keyring;
let alice;
const ADDR = {
  alice: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  bob: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
  charlie: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
};

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  localNet(netDir, 'start');
  api = await connect(9944);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  try { localNet(netDir, 'stop'); } finally { rmSync(netDir, { recursive: true, force: true }); }
});

const session = async () => (await api.query.session.currentIndex()).toNumber();
const waitForSession = (n, timeoutMs = 200_000) =>
  waitFor(`session ${n}`, async () => (await session()) >= n, { timeoutMs, everyMs: 1_000 });

/** { address: { weight, finality } } from a runtime-API validator list. */
const byAccount = (list) => Object.fromEntries(list.map((v) => [v.who.toString(),
  { weight: v.weight.toNumber(), finality: v.finalityWeight.toNumber() }]));

/** { address: weight } of BABE's current (or next) authorities, via each validator's session keys. */
async function babeWeights(next = false) {
  const authorities = next ? await api.query.babe.nextAuthorities() : await api.query.babe.authorities();
  const out = {};
  for (const who of Object.values(ADDR)) {
    const keys = (await api.query.session.nextKeys(who)).unwrap();
    const entry = authorities.find(([key]) => key.eq(keys.babe));
    if (entry) out[who] = entry[1].toNumber();
  }
  return out;
}

async function sudo(call) {
  const { dispatchError, events } = await submitAndWatch(api.tx.sudo.sudo(call), alice);
  assert.equal(dispatchError, undefined);
  const sudid = events.find(({ event }) => api.events.sudo.Sudid.is(event));
  assert.ok(sudid?.event.data.sudoResult.isOk, 'the root call succeeded');
  return events;
}

test('elected weights follow stake 1 : 2 : 5 and are BABE\'s; GRANDPA\'s are capped', { timeout: 240_000 }, async () => {
  await waitForSession(1);
  const current = byAccount(await api.call.stakeReputationApi.currentValidators());
  assert.deepEqual(Object.fromEntries(Object.entries(current).map(([k, v]) => [k, v.weight])), {
    [ADDR.alice]: 125_000_000, [ADDR.bob]: 250_000_000, [ADDR.charlie]: 625_000_000,
  });
  // No validator may hold more than 30 % of the finality weight: with three, they are equal.
  for (const v of Object.values(current)) assert.equal(v.finality, 333_333_333);
  assert.deepEqual(await babeWeights(), Object.fromEntries(Object.entries(current).map(([k, v]) => [k, v.weight])));
  const grandpa = (await api.call.grandpaApi.grandpaAuthorities()).map(([, w]) => w.toNumber());
  assert.deepEqual(grandpa, [333_333_333, 333_333_333, 333_333_333]);
  // The reputation everyone starts with is neutral.
  assert.equal((await api.call.stakeReputationApi.reputation(ADDR.bob)).toNumber(), 500_000);
});

test('raising Bob\'s reputation changes the next election\'s weights and BABE\'s next epoch', { timeout: 300_000 }, async () => {
  const events = await sudo(api.tx.stakeReputation.setReputation(ADDR.bob, 1_000_000));
  const changed = events.find(({ event }) => api.events.stakeReputation.ReputationChanged.is(event));
  assert.equal(changed.event.data[2].toNumber(), 1_000_000); // (who, old, new, reason)
  const s = await session();
  // The election at the next session change plans session s + 2 with Bob at 2 × 1.0 against
  // Alice 1 × 0.5 (decayed a little) and Charlie 5 × 0.5.
  await waitForSession(s + 1);
  const next = byAccount(await api.call.stakeReputationApi.nextValidators());
  assert.ok(next[ADDR.bob].weight > 380_000_000, JSON.stringify(next));
  assert.ok(next[ADDR.bob].weight > 1.5 * 250_000_000);
  assert.equal((await babeWeights(true))[ADDR.bob], next[ADDR.bob].weight, 'BABE announced the new weight');
  await waitForSession(s + 2);
  const current = byAccount(await api.call.stakeReputationApi.currentValidators());
  assert.equal(current[ADDR.bob].weight, next[ADDR.bob].weight);
  assert.equal((await babeWeights())[ADDR.bob], current[ADDR.bob].weight);
});

test('a slashed validator\'s weight drops at the next election', { timeout: 300_000 }, async () => {
  const before = byAccount(await api.call.stakeReputationApi.nextValidators())[ADDR.charlie].weight;
  const ledgerBefore = (await api.query.stakeReputation.ledgers(ADDR.charlie)).unwrap().active.toBigInt();
  const issuanceBefore = (await api.query.balances.totalIssuance()).toBigInt();
  const events = await sudo(api.tx.stakeReputation.forceSlash(ADDR.charlie, 500_000_000, false)); // 50 %
  const slashed = events.find(({ event }) => api.events.stakeReputation.Slashed.is(event)).event.data;
  assert.equal(slashed.own.toBigInt(), ledgerBefore / 2n);
  // Slashed stake goes to the treasury: issuance is unchanged.
  assert.equal((await api.query.balances.totalIssuance()).toBigInt(), issuanceBefore);
  const s = await session();
  await waitForSession(s + 1);
  const after = byAccount(await api.call.stakeReputationApi.nextValidators())[ADDR.charlie].weight;
  assert.ok(after < before * 0.7, `${before} -> ${after}`);
});

test('GRANDPA keeps finalizing across five session changes', { timeout: 420_000 }, async () => {
  const start = await session();
  const target = Math.max(start, 1) + 5;
  let lastFinalized = (await heads(api)).finalized;
  await waitFor(`session ${target} with finality following`, async () => {
    const { best, finalized } = await heads(api);
    assert.ok(finalized >= lastFinalized);
    lastFinalized = finalized;
    return (await session()) >= target && best - finalized <= 5;
  }, { timeoutMs: 400_000, everyMs: 2_000 });
  const setId = (await api.query.grandpa.currentSetId()).toNumber();
  assert.ok(setId >= 1, `GRANDPA set id ${setId}`);
});
