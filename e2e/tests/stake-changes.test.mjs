// Stake × reputation on the four-validator network (local preset: stakes 1 : 2 : 5 : 2, equal
// reputation), what changes the weights: governance raising a reputation, a slash, and a fifth
// node (Ferdie) bonding, setting keys and validating.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_RPC_PORTS, connect, heads, localNet, rpcCall, submitAndWatch, waitFor } from '../lib/node.mjs';
import { ADDR, byAccount, startStakeNet } from '../lib/stake.mjs';

const FERDIE = '5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL';
const FERDIE_RPC_PORT = LOCAL_RPC_PORTS.ferdie;
let net;
let api;
let alice;
let keyring;
let netDir;
let ferdieApi;
const session = () => net.session();
const waitForSession = (n, timeoutMs) => net.waitForSession(n, timeoutMs);
const babeWeights = (next) => net.babeWeights(next);
const sudo = (call) => net.sudo(call);

before(async () => {
  net = await startStakeNet('loopx-stake-changes-');
  ({ api, alice, keyring, netDir } = net);
  await waitForSession(1);
});

after(async () => {
  await ferdieApi?.disconnect().catch(() => {});
  await net?.stop();
});

test('raising Bob\'s reputation changes the next election\'s weights and BABE\'s next epoch', { timeout: 300_000 }, async () => {
  const events = await sudo(api.tx.stakeReputation.setReputation(ADDR.bob, 1_000_000));
  const changed = events.find(({ event }) => api.events.stakeReputation.ReputationChanged.is(event));
  assert.equal(changed.event.data[2].toNumber(), 1_000_000); // (who, old, new, reason)
  const s = await session();
  // The election at the next session change plans session s + 2 with weight = stake × (1 +
  // reputation), reputation in millionths: Bob at 2 × 2.0 (decayed a little) against Alice
  // 1 × 1.5, Charlie 5 × 1.5 and Dave 2 × 1.5, a quarter of the weight (a fifth at neutral).
  // Reputation moves a weight by a factor of two at most, so it cannot stand in for stake.
  await waitForSession(s + 1);
  const next = byAccount(await api.call.stakeReputationApi.nextValidators());
  assert.ok(next[ADDR.bob].weight > 240_000_000 && next[ADDR.bob].weight <= 250_000_000, JSON.stringify(next));
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

test('a fifth node that bonds, sets keys and validates is elected and authors blocks', { timeout: 600_000 }, async (t) => {
  const ferdie = keyring.addFromUri('//Ferdie');
  localNet(netDir, 'start', 'ferdie');
  ferdieApi = await connect(FERDIE_RPC_PORT);
  await waitFor('Ferdie\'s node to sync', async () => {
    const [mine, theirs] = await Promise.all([heads(ferdieApi), heads(api)]);
    return mine.best >= theirs.best - 2;
  }, { timeoutMs: 120_000, everyMs: 2_000 });

  // New session keys in Ferdie's keystore, with the proof that Ferdie's account owns them.
  const { keys, proof } = await rpcCall(FERDIE_RPC_PORT, 'author_rotateKeysWithOwner', [`0x${Buffer.from(ferdie.publicKey).toString('hex')}`]);
  await ok(api.tx.stakeReputation.bond(30_000n * 10n ** 12n), ferdie);
  // Validating before the keys are set is refused.
  const early = await submitAndWatch(api.tx.stakeReputation.validate(50_000_000), ferdie);
  assert.ok(early.dispatchError?.isModule);
  assert.equal(api.registry.findMetaError(early.dispatchError.asModule).name, 'NoSessionKeys');
  await ok(api.tx.session.setKeys(keys, proof), ferdie);
  await ok(api.tx.stakeReputation.validate(50_000_000), ferdie); // 5 % commission
  const candidates = await api.call.stakeReputationApi.candidates();
  assert.ok(candidates.some((c) => c.who.toString() === FERDIE && c.eligible.isTrue), 'Ferdie is an eligible candidate');

  // The next session change elects him for the session after; then he is a BABE authority.
  const s = await session();
  await waitForSession(s + 1);
  const next = byAccount(await api.call.stakeReputationApi.nextValidators());
  assert.ok(next[FERDIE]?.weight > 0, `Ferdie in the next set: ${JSON.stringify(next)}`);
  await waitForSession(s + 2);
  assert.equal(byAccount(await api.call.stakeReputationApi.currentValidators())[FERDIE].weight, next[FERDIE].weight);
  const ferdieBabe = (await api.query.session.nextKeys(FERDIE)).unwrap().babe;
  const authorities = await api.query.babe.authorities();
  const mine = authorities.find(([key]) => key.eq(ferdieBabe));
  assert.equal(mine?.[1].toNumber(), next[FERDIE].weight, 'Ferdie is a BABE authority with his elected weight');

  // He authors blocks (primary or secondary slots), which the others import and finalize. The
  // pre-digest's authority index refers to the block's own epoch, so the set is read in the
  // block's state (its parent's is the previous epoch's at an epoch's first block).
  const from = (await heads(api)).best;
  let authored = 0;
  let checked = from;
  let why = '';
  await waitFor('a block authored by Ferdie, finalized', async () => {
    const { finalized } = await heads(api);
    for (; checked < finalized; checked++) {
      const hash = await api.rpc.chain.getBlockHash(checked + 1);
      const header = await api.rpc.chain.getHeader(hash);
      const log = header.digest.logs.find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'BABE');
      const digest = api.registry.createType('RawBabePreDigest', log.asPreRuntime[1]);
      const index = (digest.isPrimary ? digest.asPrimary : digest.isSecondaryVRF ? digest.asSecondaryVRF : digest.asSecondaryPlain).authorityIndex.toNumber();
      const set = await (await api.at(hash)).query.babe.authorities();
      if (set[index]?.[0].eq(ferdieBabe)) authored += 1;
    }
    if (authored > 0) return true;
    const [mine, theirs] = await Promise.all([heads(ferdieApi), heads(api)]);
    why = `none of #${from + 1}..#${checked}; best/finalized: Ferdie's node ${mine.best}/${mine.finalized}, the network ${theirs.best}/${theirs.finalized}`;
    return false;
  }, { timeoutMs: 240_000, everyMs: 3_000 }).catch((e) => { throw new Error(`${e.message}: ${why}`); });
  t.diagnostic(`Ferdie authored ${authored} of blocks #${from + 1}..#${checked}`);
});
