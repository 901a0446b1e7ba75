// Stake × reputation on the three-validator network (local preset: stakes 1 : 2 : 5, equal
// reputation): the runtime's elected weights, BABE's authority weights and GRANDPA's voter
// weights, primary-slot shares over 300 blocks, finality across session changes, and the
// reaction to governance changing a reputation and to a slash; a fourth node joining the set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, heads, localNet, rpcCall, submitAndWatch, tmpDir, waitFor } from '../lib/node.mjs';

const netDir = tmpDir('loopx-stake-net-');
let api;
let keyring;
let alice;
let daveApi;
const ADDR = {
  alice: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  bob: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
  charlie: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
};
const DAVE = '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy';
const DAVE_RPC_PORT = 9947;

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  localNet(netDir, 'start');
  api = await connect(9944);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  await daveApi?.disconnect().catch(() => {});
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

/**
 * BABE primary-slot leader election weighted by stake × reputation. With c = 1/4 a validator of
 * weight share θ wins a slot's primary lottery with p(θ) = 1 − (1 − c)^θ; among primary blocks its
 * expected share is p(θ)/Σp (13.1 %, 25.7 %, 61.1 % for 1 : 2 : 5 — not exactly θ because the
 * lottery is concave). Over n primary blocks the observed share has standard deviation
 * √(e(1−e)/n); the test allows 4σ plus 0.02 for forks and the approximation, so an honest chain
 * fails it roughly once in 5,000 runs while equal weights (a third each) fail it with n ≳ 60.
 * The same window covers five session changes, through which GRANDPA must keep finalizing.
 */
test('over 300 blocks primary slots follow the weights, and GRANDPA finalizes across 5 sessions', { timeout: 1_200_000 }, async (t) => {
  const C = 0.25;
  const startBlock = (await heads(api)).best;
  const startSession = await session();
  const keyToAccount = {};
  for (const who of Object.values(ADDR)) {
    keyToAccount[(await api.query.session.nextKeys(who)).unwrap().babe.toHex()] = who;
  }
  const observed = Object.fromEntries(Object.values(ADDR).map((a) => [a, 0]));
  const expected = Object.fromEntries(Object.values(ADDR).map((a) => [a, 0]));
  let primaries = 0;
  let next = startBlock + 1;
  const end = startBlock + 300;

  // Who authored each finalized primary block, and with which weights its epoch's lottery ran.
  // Blocks are read as they finalize: nodes keep the state of the last 256 blocks only.
  async function readFinalizedUpTo(finalized) {
    for (; next <= Math.min(finalized, end); next++) {
      const hash = await api.rpc.chain.getBlockHash(next);
      const header = await api.rpc.chain.getHeader(hash);
      const log = header.digest.logs.find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'BABE');
      const digest = api.registry.createType('RawBabePreDigest', log.asPreRuntime[1]);
      if (!digest.isPrimary) continue;
      const authorities = await (await api.at(header.parentHash)).query.babe.authorities();
      const total = authorities.reduce((a, [, w]) => a + w.toNumber(), 0);
      const p = authorities.map(([, w]) => 1 - (1 - C) ** (w.toNumber() / total));
      const sumP = p.reduce((a, b) => a + b, 0);
      authorities.forEach(([key], i) => { expected[keyToAccount[key.toHex()]] += p[i] / sumP; });
      observed[keyToAccount[authorities[digest.asPrimary.authorityIndex.toNumber()][0].toHex()]] += 1;
      primaries += 1;
    }
  }

  let lastFinalized = (await heads(api)).finalized;
  await waitFor('300 more finalized blocks and 5 session changes', async () => {
    const { best, finalized } = await heads(api);
    assert.ok(finalized >= lastFinalized, 'finality never goes back');
    lastFinalized = finalized;
    await readFinalizedUpTo(finalized);
    return next > end && (await session()) >= startSession + 5 && best - finalized <= 5;
  }, { timeoutMs: 1_150_000, everyMs: 5_000 });

  assert.ok(primaries >= 40, `only ${primaries} primary blocks in 300`);
  for (const who of Object.values(ADDR)) {
    const e = expected[who] / primaries;
    const o = observed[who] / primaries;
    const tolerance = 4 * Math.sqrt((e * (1 - e)) / primaries) + 0.02;
    t.diagnostic(`${who}: ${observed[who]} of ${primaries} primary blocks = ${(100 * o).toFixed(1)} %, expected ${(100 * e).toFixed(1)} % ± ${(100 * tolerance).toFixed(1)}`);
    assert.ok(Math.abs(o - e) <= tolerance,
      `${who}: observed ${(100 * o).toFixed(1)} % of ${primaries} primary blocks, expected ${(100 * e).toFixed(1)} % ± ${(100 * tolerance).toFixed(1)}`);
  }
  assert.ok((await api.query.grandpa.currentSetId()).toNumber() >= 1);
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
  const { blockHash, events, dispatchError } =
    await submitAndWatch(api.tx.sudo.sudo(api.tx.stakeReputation.forceSlash(ADDR.charlie, 500_000_000, false)), alice); // 50 %
  assert.equal(dispatchError, undefined);
  const slashed = events.find(({ event }) => api.events.stakeReputation.Slashed.is(event)).event.data;
  assert.equal(slashed.own.toBigInt(), ledgerBefore / 2n);
  // Slashed stake goes to the treasury: the slash's block changes the issuance only by what the
  // rewards pallet minted in it (if an era ended there).
  const parent = (await api.rpc.chain.getHeader(blockHash)).parentHash;
  const issuanceBefore = (await (await api.at(parent)).query.balances.totalIssuance()).toBigInt();
  const atBlock = await api.at(blockHash);
  const minted = (await atBlock.query.system.events())
    .filter(({ event }) => api.events.rewards.EraEnded.is(event))
    .reduce((sum, { event }) => sum + event.data.summary.minted.toBigInt(), 0n);
  assert.equal((await atBlock.query.balances.totalIssuance()).toBigInt(), issuanceBefore + minted);
  const s = await session();
  await waitForSession(s + 1);
  const after = byAccount(await api.call.stakeReputationApi.nextValidators())[ADDR.charlie].weight;
  assert.ok(after < before * 0.7, `${before} -> ${after}`);
});

async function ok(tx, signer) {
  const { dispatchError, events } = await submitAndWatch(tx, signer);
  assert.equal(dispatchError, undefined, `${tx.method.section}.${tx.method.method} failed: ${dispatchError}`);
  return events;
}

test('a fourth node that bonds, sets keys and validates is elected and authors blocks', { timeout: 600_000 }, async (t) => {
  const dave = keyring.addFromUri('//Dave');
  localNet(netDir, 'start', 'dave');
  daveApi = await connect(DAVE_RPC_PORT);
  await waitFor('Dave\'s node to sync', async () => {
    const [mine, theirs] = await Promise.all([heads(daveApi), heads(api)]);
    return mine.best >= theirs.best - 2;
  }, { timeoutMs: 120_000, everyMs: 2_000 });

  // New session keys in Dave's keystore, with the proof that Dave's account owns them.
  const { keys, proof } = await rpcCall(DAVE_RPC_PORT, 'author_rotateKeysWithOwner', [`0x${Buffer.from(dave.publicKey).toString('hex')}`]);
  await ok(api.tx.stakeReputation.bond(30_000n * 10n ** 12n), dave);
  // Validating before the keys are set is refused.
  const early = await submitAndWatch(api.tx.stakeReputation.validate(50_000_000), dave);
  assert.ok(early.dispatchError?.isModule);
  assert.equal(api.registry.findMetaError(early.dispatchError.asModule).name, 'NoSessionKeys');
  await ok(api.tx.session.setKeys(keys, proof), dave);
  await ok(api.tx.stakeReputation.validate(50_000_000), dave); // 5 % commission
  const candidates = await api.call.stakeReputationApi.candidates();
  assert.ok(candidates.some((c) => c.who.toString() === DAVE && c.eligible.isTrue), 'Dave is an eligible candidate');

  // The next session change elects him for the session after; then he is a BABE authority.
  const s = await session();
  await waitForSession(s + 1);
  const next = byAccount(await api.call.stakeReputationApi.nextValidators());
  assert.ok(next[DAVE]?.weight > 0, `Dave in the next set: ${JSON.stringify(next)}`);
  await waitForSession(s + 2);
  assert.equal(byAccount(await api.call.stakeReputationApi.currentValidators())[DAVE].weight, next[DAVE].weight);
  const daveBabe = (await api.query.session.nextKeys(DAVE)).unwrap().babe;
  const authorities = await api.query.babe.authorities();
  const mine = authorities.find(([key]) => key.eq(daveBabe));
  assert.equal(mine?.[1].toNumber(), next[DAVE].weight, 'Dave is a BABE authority with his elected weight');

  // He authors blocks (primary or secondary slots), which the others import and finalize.
  const from = (await heads(api)).best;
  let authored = 0;
  let checked = from;
  await waitFor('a block authored by Dave, finalized', async () => {
    const { finalized } = await heads(api);
    for (; checked < finalized; checked++) {
      const header = await api.rpc.chain.getHeader(await api.rpc.chain.getBlockHash(checked + 1));
      const log = header.digest.logs.find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'BABE');
      const digest = api.registry.createType('RawBabePreDigest', log.asPreRuntime[1]);
      const index = (digest.isPrimary ? digest.asPrimary : digest.isSecondaryVRF ? digest.asSecondaryVRF : digest.asSecondaryPlain).authorityIndex.toNumber();
      const set = await (await api.at(header.parentHash)).query.babe.authorities();
      if (set[index][0].eq(daveBabe)) authored += 1;
    }
    return authored > 0;
  }, { timeoutMs: 180_000, everyMs: 3_000 });
  t.diagnostic(`Dave authored ${authored} of blocks #${from + 1}..#${checked}`);
});
