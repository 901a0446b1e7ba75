// A runtime upgrade as a live network meets it. The four validators (workers on) start on the
// runtime of an earlier release (spec 122, built once from its commit by
// scripts/lib/common.sh `build_upgrade_fixture`); there Ferdie rates an answer and the rating is
// stored without a deposit, as that release stored ratings. The technical committee whitelists
// `system.authorizeUpgrade` of this checkout's runtime, a referendum on the whitelisted_caller
// track dispatches it, and anyone applies the authorized code. The next block runs the
// migrations: compute-market's v3 holds Ferdie's rating deposit (and stake-reputation's v1 runs). Blocks go on being finalized
// across the upgrade, and the workers answer queries on the new runtime.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { Metadata, TypeRegistry } from '@polkadot/types';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { QUERY_FEE, SQL, VALIDATORS } from '../lib/cycle.mjs';
import { referendum } from '../lib/governance.mjs';
import { LOCAL_RPC_PORTS, REPO_ROOT, connect, disposeNet, heads, localNetWithEnv, runNode, sendChecked, tmpDir, waitFor } from '../lib/node.mjs';

const ANYONE = { minStake: 0, minReputation: 0 };
const netDir = tmpDir('loopx-upgrade-');
const seen = []; // [blockNumber, event] of every best block since the start
let api;
let keys;
let newCode; // this checkout's runtime (the node's own), hex

/**
 * The earlier release's runtime, built once and cached (see scripts/lib/common.sh), and the
 * local genesis that release shipped.
 */
function upgradeFrom() {
  const r = spawnSync('bash', ['-c', 'set -euo pipefail; source scripts/lib/common.sh; build_upgrade_fixture; upgrade_fixture_source'], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: 3_600_000,
  });
  if (r.status !== 0) throw new Error(`build_upgrade_fixture failed:\n${r.stderr.slice(-4000)}`);
  const [wasm, source] = r.stdout.trim().split('\n').slice(-2);
  return { LOOPX_GENESIS_RUNTIME: wasm, LOOPX_GENESIS_PATCH: join(source, 'chain-spec', 'local', 'genesis.json') };
}

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  keys = Object.fromEntries(['Alice', 'Bob', 'Eve', 'Ferdie'].map((n) => [n.toLowerCase(), keyring.addFromUri(`//${n}`)]));
  newCode = JSON.parse(runNode(['build-spec', '--chain', 'local', '--disable-default-bootnode']).stdout).genesis.runtimeGenesis.code;
  localNetWithEnv(upgradeFrom(), netDir, 'start');
  api = await connect(LOCAL_RPC_PORTS.alice);
  await api.rpc.chain.subscribeNewHeads(async (header) => {
    try {
      for (const { event } of await eventsOf(header)) seen.push([header.number.toNumber(), event]);
    } catch (e) {
      console.error(`(events of block #${header.number} not read: ${e?.message ?? e})`);
    }
  });
});

const registries = new Map(); // spec version → the types of that runtime

/**
 * The event records of block `header`, decoded with the types of the runtime that executed it
 * (the one in its parent's state). Not `api.at`: at an upgrade polkadot.js rewrites its cached
 * registry of the old version with the new types, so a block the old runtime executed (the one
 * that sets the new code) could be decoded with the new ones.
 */
async function eventsOf(header) {
  const version = (await api.rpc.state.getRuntimeVersion(header.parentHash)).specVersion.toNumber();
  if (!registries.has(version)) {
    const registry = new TypeRegistry();
    registry.setMetadata(new Metadata(registry, (await api.rpc.state.getMetadata(header.parentHash)).toU8a()));
    registries.set(version, registry);
  }
  const raw = await api.rpc.state.getStorage(api.query.system.events.key(), header.hash);
  return registries.get(version).createType('Vec<FrameSystemEventRecord>', raw.toU8a(true));
}

after(async () => {
  await api?.disconnect();
  try { localNetWithEnv({}, netDir, 'stop'); } finally { disposeNet(netDir); }
});

const event = (pred) => seen.find(([, e]) => pred(e));

/**
 * The first block of the finalized chain from block `from` on holding an event `match` picks:
 * `[number, event]`. The events that happen once (the upgrade's) are read there, not from the
 * best-block subscription, which misses a block that never became best (a sibling of the same
 * height took its place before the subscription read it).
 */
async function finalizedEvent(what, from, match, timeoutMs) {
  let next = from;
  let found;
  await waitFor(what, async () => {
    const { finalized } = await heads(api);
    for (; next <= finalized && !found; next++) {
      const header = await api.rpc.chain.getHeader(await api.rpc.chain.getBlockHash(next));
      const record = (await eventsOf(header)).find(({ event: e }) => match(e));
      if (record) found = [next, record.event];
    }
    return found;
  }, { timeoutMs, everyMs: 1_000 });
  return found;
}
const specVersion = async () => (await api.rpc.state.getRuntimeVersion()).specVersion.toNumber();

/** Ferdie's aggregation query over the demo table, answered by the workers; returns the event data. */
async function answeredQuery() {
  const deadline = (await heads(api)).best + 40;
  const { events } = await sendChecked(api, api.tx.computeMarket.postQuery({ Aggregation: { sql: SQL, dataset: 'wallet-demo' } }, QUERY_FEE, VALIDATORS.length, ANYONE, deadline), keys.ferdie);
  const query = events.find(({ event: e }) => api.events.computeMarket.QueryPosted.is(e)).event.data.query.toNumber();
  const [, answered] = await waitFor(`query #${query} answered`, async () => event((e) => e.section === 'computeMarket' && e.method === 'QueryAnswered' && e.data.query.toNumber() === query), { timeoutMs: 180_000, everyMs: 2_000 });
  return { query, answerers: answered.data.answerers.map(String) };
}

test('an earlier release upgrades to this one through the whitelist and a referendum; its migration holds the old ratings\' deposits', { timeout: 900_000 }, async () => {
  const { alice, bob, eve, ferdie } = keys;
  const before = await specVersion();
  assert.equal(before, 122, 'the network starts on the earlier release');
  assert.equal((await api.query.computeMarket.palletVersion()).toNumber(), 2);
  assert.equal((await api.query.stakeReputation.palletVersion()).toNumber(), 0);
  assert.equal((await api.query.weightedVoting.palletVersion()).toNumber(), 3);
  assert.ok((await api.query.weightedVoting.classParameters('Test')).isSome, 'the earlier release had a test-only class');
  assert.equal(api.tx.computeMarket.withdrawRating, undefined, 'a call the earlier release did not have');

  // On the earlier release a rating holds nothing.
  const { query, answerers } = await answeredQuery();
  assert.ok(answerers.length >= 2, `a verified answer (${answerers.length} answerers)`);
  const provider = answerers[0];
  await sendChecked(api, api.tx.computeMarket.rate(query, provider, 'Good'), ferdie);
  const ratingHold = async () => (await api.query.balances.holds(ferdie.address))
    .filter((h) => h.id.isComputeMarket && h.id.asComputeMarket.isRating).reduce((s, h) => s + h.amount.toBigInt(), 0n);
  assert.equal(await ratingHold(), 0n, 'no rating deposit on the earlier release');

  // The technical committee whitelists the authorization of this checkout's runtime (2 of 3)...
  const codeHash = blake2AsHex(newCode, 256);
  const authorize = api.tx.system.authorizeUpgrade(codeHash);
  const whitelist = api.tx.whitelist.whitelistCall(blake2AsHex(authorize.method.toHex(), 256));
  const { events } = await sendChecked(api, api.tx.technicalCommittee.propose(2, whitelist, whitelist.method.encodedLength), alice);
  const proposed = events.find(({ event: e }) => api.events.technicalCommittee.Proposed.is(e)).event.data;
  for (const member of [alice, bob]) {
    await sendChecked(api, api.tx.technicalCommittee.vote(proposed.proposalHash, proposed.proposalIndex, true), member);
  }
  const closed = await sendChecked(api, api.tx.technicalCommittee.close(proposed.proposalHash, proposed.proposalIndex, { refTime: 1_000_000_000, proofSize: 100_000 }, whitelist.method.encodedLength), alice);
  assert.ok(closed.events.some(({ event: e }) => api.events.whitelist.CallWhitelisted.is(e)), 'whitelist.CallWhitelisted');
  // ...and a whitelisted_caller referendum (Eve and Ferdie vote) dispatches it as root.
  await referendum(api, api.tx.whitelist.dispatchWhitelistedCallWithPreimage(authorize), { Origins: 'WhitelistedCaller' }, [eve, ferdie]);
  await waitFor('the upgrade authorized', async () => (await api.query.system.authorizedUpgrade()).isSome, { timeoutMs: 300_000, everyMs: 2_000 });
  assert.equal((await api.query.system.authorizedUpgrade()).unwrap().codeHash.toHex(), codeHash);

  // Anyone applies the authorized code; other code is refused.
  await sendChecked(api, api.tx.system.applyAuthorizedUpgrade('0x00'), eve, { expectError: 'system.Unauthorized' });
  const applied = await sendChecked(api, api.tx.system.applyAuthorizedUpgrade(newCode), eve);
  const appliedIn = (await api.rpc.chain.getHeader(applied.blockHash)).number.toNumber();
  const [updatedAt] = await finalizedEvent('system.CodeUpdated finalized', appliedIn - 5, (e) => e.section === 'system' && e.method === 'CodeUpdated', 120_000);
  await waitFor('the new runtime running', async () => (await specVersion()) > before, { timeoutMs: 60_000, everyMs: 1_000 });
  assert.equal(await specVersion(), 129);

  // The migration ran once, in the first block of the new runtime: the old rating holds its deposit.
  const held = await finalizedEvent('computeMarket.RatingDepositHeld finalized', updatedAt, (e) => e.section === 'computeMarket' && e.method === 'RatingDepositHeld', 120_000);
  assert.equal(held[0], updatedAt + 1, 'in the block after the code was set');
  assert.equal(held[1].data.client.toString(), ferdie.address);
  assert.equal(held[1].data.provider.toString(), provider);
  const deposit = api.consts.computeMarket.ratingDeposit.toBigInt();
  assert.ok(deposit > 0n);
  assert.equal((await api.query.computeMarket.palletVersion()).toNumber(), 3);
  assert.equal((await api.query.stakeReputation.palletVersion()).toNumber(), 1, 'stake-reputation v1 ran too (no deferred slash to rewrite here)');
  assert.equal((await api.query.computeMarket.ratingDeposits(provider, ferdie.address)).unwrap().toBigInt(), deposit);
  assert.equal(await ratingHold(), deposit);
  // Weighted-voting v4 removed the test-only class: every class entry decodes with the new types.
  assert.equal((await api.query.weightedVoting.palletVersion()).toNumber(), 6);
  // v6: the open claims have a key each, counted, and each of them is voting at its deadline.
  const open = await api.query.weightedVoting.openClaims.entries();
  assert.equal((await api.query.weightedVoting.counterForOpenClaims()).toNumber(), open.length);
  for (const [key] of open) {
    const claim = (await api.query.weightedVoting.claims(key.args[0])).unwrap();
    assert.ok(claim.status.isVoting, `open claim #${key.args[0]} is voting`);
    assert.ok((await api.query.weightedVoting.deadlines(claim.revealEnd, key.args[0])).isSome, `open claim #${key.args[0]} has its deadline`);
  }
  assert.equal(api.tx.weightedVoting.openTestClaim, undefined, 'no test-only call in this release');
  const classes = (await api.query.weightedVoting.classParameters.entries()).map(([key]) => key.args[0].toString()).sort();
  assert.deepEqual(classes, ['DataDispute', 'EvaluationScore', 'ModelUpdate', 'QueryResult']);

  // The network goes on: finality passes the upgrade, and the workers answer on the new runtime.
  await waitFor('finality past the upgrade', async () => (await heads(api)).finalized > updatedAt + 10, { timeoutMs: 120_000, everyMs: 2_000 });
  const after = await answeredQuery();
  assert.ok(after.answerers.length >= 2, `answered on the new runtime by ${after.answerers.length}`);
});
