// Gossip learning by the validators' native workers, on the four-validator local network with
// every worker on. Charlie runs with the test-only fault injection `--worker-fault forge-claims`
// (`LOOPX_FAULTY=charlie LOOPX_FAULT=forge-claims scripts/local-net.sh start`): he trains
// honestly but claims 0.1 more AUC than his model reaches (near 1: a perfect AUC for his
// untrained model).
//
// Ferdie deploys a fraud-detection task scored on the demo evaluation set every worker holds. In
// each round every validator's worker trains the task's TT classifier on its own shard (from the
// current version, fetched over the models request–response protocol from a peer that announced
// it on the announce gossip protocol, merged with the models it received), scores it and claims
// it with `submit_update`. The other validators'
// workers fetch the claimed model, score it themselves and vote with commit–reveal: honest
// claims are accepted and become versions, Charlie's forged claims are rejected and he is
// slashed. Bob's node restarts in the middle of a vote and picks up where it left off. Every
// validator then serves the accepted version for inference and Ferdie's inference query gets
// four agreeing answers. Nothing here is played by the test except Ferdie.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { LOCAL_PROM_PORTS, LOCAL_RPC_PORTS, connect, localNetWithEnv, sendChecked, subscribeEvents, waitFor, disposeNet } from '../lib/node.mjs';
import { fraudTaskSpec, UNITS } from '../lib/cycle.mjs';

const ZERO = `0x${'00'.repeat(32)}`;
const ADDR = {
  alice: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  bob: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
  charlie: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
  dave: '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy',
};
const PROM_PORT = LOCAL_PROM_PORTS;
const netDir = mkdtempSync(join(tmpdir(), 'loopx-worker-learning-'));
const seen = [];
let api;
let ferdie;
let task;

before(async () => {
  await cryptoWaitReady();
  ferdie = new Keyring({ type: 'sr25519' }).addFromUri('//Ferdie');
  localNetWithEnv({ LOOPX_FAULTY: 'charlie', LOOPX_FAULT: 'forge-claims' }, netDir, 'start');
  api = await connect(LOCAL_RPC_PORTS.alice);
  await subscribeEvents(api, (header, events) => {
    for (const { event, phase } of events) seen.push({ n: header.number.toNumber(), hash: header.hash, event, phase });
  });
});

after(async () => {
  await api?.disconnect().catch(() => {});
  // LOOPX_KEEP_NET=1 keeps the nodes' logs and databases for a look afterwards.
  try { localNetWithEnv({}, netDir, 'stop'); } finally { disposeNet(netDir); }
});

const best = async () => (await api.rpc.chain.getHeader()).number.toNumber();
/** The entries of `seen` in blocks of the canonical chain (a fork's block is seen too). */
async function canonical(entries) {
  const out = [];
  for (const e of entries) if ((await api.rpc.chain.getBlockHash(e.n)).eq(e.hash)) out.push(e);
  return out;
}
/** The dispatch errors of `who`'s transactions in the blocks seen so far. */
async function failedTransactionsOf(who) {
  const out = [];
  for (const { hash, event, phase } of await canonical(seen.filter(({ event }) => api.events.system.ExtrinsicFailed.is(event)))) {
    const xt = (await api.rpc.chain.getBlock(hash)).block.extrinsics[phase.asApplyExtrinsic.toNumber()];
    if (xt.isSigned && xt.signer.toString() === who) out.push(event.data.dispatchError.toString());
  }
  return out;
}
/** The entries of `seen` in finalized blocks: claims opened in the same blocks get different
 * numbers on different forks, so events of a block that may still be retracted could pair a
 * claim number with the wrong trainer. */
async function finalizedOnly(entries) {
  const head = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  return canonical(entries.filter((e) => e.n <= head));
}
/** The data of the finalized events of `kind` about the task. */
const ofTask = async (kind) => (await finalizedOnly(seen.filter(({ event }) => kind.is(event) && event.data.task.toNumber() === task)))
  .map(({ event }) => event.data);
/** The metric `claim`'s trainer revealed (sealed when it claimed), once finalized. */
const revealedMetric = async (claim) => {
  const found = await finalizedOnly(seen.filter(({ event }) => api.events.weightedVoting.ClaimedScoreRevealed.is(event) && event.data.claim.eq(claim)));
  return found.length > 0 && found[0].event.data.score.toNumber();
};
/** The value of the Prometheus sample `name{…label…}` on `who`'s node (0 when absent). */
const metric = async (who, name, label) => {
  const text = await (await fetch(`http://127.0.0.1:${PROM_PORT[who]}/metrics`)).text();
  return Number(text.match(new RegExp(`${name}\\{[^}]*${label}[^}]*\\} ([0-9.e+-]+)`))?.[1] ?? 0);
};

test('Ferdie deploys a fraud task on the demo evaluation set', { timeout: 120_000 }, async () => {
  const spec = fraudTaskSpec((await best()) + 1_000);
  const { events } = await sendChecked(api, api.tx.builderMarket.deployModel(spec), ferdie);
  task = events.find(({ event }) => api.events.builderMarket.TaskDeployed.is(event)).event.data.task.toNumber();
});

test('round 0: honest updates are verified and become versions; the forged claim is rejected and slashed', { timeout: 420_000 }, async () => {
  assert.ok(task !== undefined, 'the task was deployed');
  // Every validator trains and claims; the claims are decided 40 blocks later.
  const submitted = await waitFor('four update claims', async () => {
    const s = (await ofTask(api.events.builderMarket.UpdateSubmitted)).filter((u) => u.round.toNumber() === 0);
    return s.length >= 4 && s;
  }, { timeoutMs: 120_000, everyMs: 2_000 });
  const claimOf = Object.fromEntries(submitted.map((u) => [u.trainer.toString(), u]));
  assert.deepEqual(Object.keys(claimOf).sort(), Object.values(ADDR).sort());
  for (const u of submitted) {
    const claim = (await api.call.builderMarketApi.updateClaim(u.claim)).unwrap();
    assert.equal(claim.parent.toHex(), ZERO, 'round 0 starts from the initial model');
  }
  // Bob restarts in the middle of the vote, after committing his vote on Charlie's claim: his
  // worker resumes from the chain (no second claim) and still reveals (scoring the model
  // again, fetched anew).
  await waitFor('Bob\'s vote on Charlie\'s claim committed', async () =>
    (await api.call.weightedVotingApi.claimsForVoter(ADDR.bob)).some((c) => c.claim.eq(claimOf[ADDR.charlie].claim) && c.committed.isTrue),
  { timeoutMs: 60_000, everyMs: 1_000 });
  localNetWithEnv({}, netDir, 'stop', 'bob');
  localNetWithEnv({}, netDir, 'start', 'bob');
  const decided = await waitFor('the four verdicts', async () => {
    const d = (await ofTask(api.events.builderMarket.UpdateDecided)).filter((x) => submitted.some((u) => u.claim.eq(x.claim)));
    return d.length >= 4 && d;
  }, { timeoutMs: 240_000, everyMs: 3_000 });
  const outcome = Object.fromEntries(decided.map((d) => [
    submitted.find((u) => u.claim.eq(d.claim)).trainer.toString(), { outcome: d.outcome.toString(), verified: d.verified }]));
  assert.equal(outcome[ADDR.alice].outcome, 'Accepted');
  assert.equal(outcome[ADDR.bob].outcome, 'Accepted');
  assert.equal(outcome[ADDR.dave].outcome, 'Accepted');
  assert.equal(outcome[ADDR.charlie].outcome, 'Rejected');
  // The voters score what they fetched: honest claims within the class's 1 % tolerance.
  for (const who of [ADDR.alice, ADDR.bob, ADDR.dave]) {
    const claimed = await revealedMetric(claimOf[who].claim);
    assert.ok(claimed !== false, `${who} revealed the metric it sealed`);
    const verified = outcome[who].verified.unwrap().toNumber();
    assert.ok(Math.abs(claimed - verified) <= 10_000, `${who}: claimed ${claimed}, verified ${verified}`);
    assert.ok(verified > 700_000, `a trained model separates fraud (AUC ${verified} ppm)`);
  }
  const slashed = await canonical(seen.filter(({ event }) => api.events.weightedVoting.ClaimantSlashed.is(event)
    && event.data.claim.eq(claimOf[ADDR.charlie].claim)));
  assert.equal(slashed.length, 1, 'Charlie slashed for the forged claim');

  const bobsClaims = await canonical(seen.filter(({ event }) => api.events.builderMarket.UpdateSubmitted.is(event)
    && event.data.task.toNumber() === task && event.data.round.toNumber() === 0 && event.data.trainer.toString() === ADDR.bob));
  assert.equal(bobsClaims.length, 1, 'the restarted Bob claimed round 0 once');
  assert.match(readFileSync(join(netDir, 'bob.log'), 'utf8'), /payloads kept from an earlier run in \S*loopx-models/, 'Bob reloaded his models from disk');
  assert.deepEqual(await failedTransactionsOf(ADDR.bob), [], 'none of Bob\'s transactions failed');
  // Each worker counts its own claims' outcomes.
  await waitFor('the workers counting the outcomes', async () =>
    await metric('alice', 'loopx_worker_updates_decided', 'outcome="accepted"') >= 1
    && await metric('charlie', 'loopx_worker_updates_decided', 'outcome="rejected"') >= 1,
  { timeoutMs: 30_000, everyMs: 3_000 });

  const versions = await api.call.builderMarketApi.versions(task);
  assert.ok(versions.length >= 1, 'an honest update became a version');
  const trainers = versions.flatMap(([, , , who]) => who.map(String));
  assert.ok(!trainers.includes(ADDR.charlie), 'the forged model is no version');
});

test('round 1 trains on from the current version, fetched from its trainer over the network', { timeout: 420_000 }, async () => {
  const versions = await api.call.builderMarketApi.versions(task);
  assert.ok(versions.length >= 1);
  const [, , firstMetric] = versions[0];
  // Every worker that votes on or trains from a peer's model fetched it over the network
  // (Bob's counters restarted with him; he reloaded what he had fetched from disk).
  for (const who of ['alice', 'charlie']) {
    const received = await metric(who, 'loopx_worker_network_bytes', 'direction="received"');
    assert.ok(received > 0, `${who} received model bytes from a peer`);
    // The peers announced the models they hold on the announce gossip protocol.
    assert.ok(await metric(who, 'loopx_worker_announcements', 'direction="received"') > 0, `${who} heard announcements`);
    assert.ok(await metric(who, 'loopx_worker_announcements', 'direction="sent"') > 0, `${who} announced its models`);
  }
  // Round 1 claims name a version as parent; a trainer that did not make that version had to
  // fetch it from a peer.
  const next = await waitFor('a round-1 update claim', async () => {
    for (const u of (await ofTask(api.events.builderMarket.UpdateSubmitted)).filter((x) => x.round.toNumber() === 1)) {
      const claim = (await api.call.builderMarketApi.updateClaim(u.claim)).unwrap();
      if (claim.parent.toHex() !== ZERO) return { u, parent: claim.parent.toHex() };
    }
    return false;
  }, { timeoutMs: 240_000, everyMs: 3_000 });
  const parent = (await api.call.builderMarketApi.versions(task)).find(([, h]) => h.toHex() === next.parent);
  assert.ok(parent, 'the parent is an accepted version');
  const claimed = await waitFor('the round-1 claim\'s metric revealed', () => revealedMetric(next.u.claim), { timeoutMs: 120_000, everyMs: 3_000 });
  assert.ok(claimed > parent[2].toNumber(), 'a round-1 claim beats the version it starts from');
  const gauge = await metric('alice', 'loopx_worker_model_metric', `task="${task}"`);
  assert.ok(gauge * 1e6 >= firstMetric.toNumber(), `Alice's model-metric gauge follows the versions (${gauge})`);
});

test('the accepted version answers an inference query: every validator serves it and the answers agree', { timeout: 300_000 }, async () => {
  const versions = await api.call.builderMarketApi.versions(task);
  const version = versions[versions.length - 1][0].toNumber();
  // Every worker advertises the current version once it holds its model.
  await waitFor(`all four validators serving version ${version}`, async () => {
    for (const who of Object.values(ADDR)) {
      const c = await api.call.computeMarketApi.capabilities(who);
      if (c.isNone || !c.unwrap().models.some(([t, v]) => t.toNumber() === task && v.toNumber() === version)) return false;
    }
    return true;
  }, { timeoutMs: 120_000, everyMs: 2_000 });

  // Two transactions: an ordinary one and one far from the usual (inference input format:
  // one line of the 16 wallet features per transaction, worker/src/inference.rs).
  const ordinary = Array(16).fill('0').join(',');
  const odd = [4, 6, 0, 0, 3, 1, 1, 0.9, 5, 5, 5, 0.5, 0.5, 0.1, 3, 3].join(',');
  const fee = 30n * UNITS;
  const start = await best();
  const { events } = await sendChecked(api, api.tx.computeMarket.postQuery(
    { Inference: { model: task, version, input: `${ordinary}\n${odd}` } }, fee, 4, { minStake: 0, minReputation: 0 }, start + 60), ferdie);
  const query = events.find(({ event }) => api.events.computeMarket.QueryPosted.is(event)).event.data.query.toNumber();
  let view;
  await waitFor(`query ${query} answered`, async () => {
    view = (await api.call.computeMarketApi.queriesOf(ferdie.address)).find((q) => q.id.toNumber() === query);
    return view?.status.isAnswered;
  }, { timeoutMs: 180_000, everyMs: 3_000 });
  const result = Buffer.from(view.result.unwrap()).toString('utf8');
  assert.match(result, /^fraud_probability\n0\.\d{6}\n[01]\.\d{6}\n$/, result);
  assert.deepEqual(view.answerers.map(String).sort(), Object.values(ADDR).sort(), 'the four answers agreed');
  // Read from the canonical blocks themselves: a new-heads subscription skips the blocks of a
  // fork that became best in one step, so `seen` may lack the block that paid.
  const paid = [];
  for (let n = start, end = await best(); n <= end; n++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    for (const { event } of await at.query.system.events()) {
      if (api.events.computeMarket.AnswerPaid.is(event) && event.data.query.toNumber() === query) paid.push(event.data.who.toString());
    }
  }
  assert.deepEqual(paid.sort(), Object.values(ADDR).sort(), 'each answerer paid');
});

test('every validator scores new transfers with the version in force: a chain query joining transfer_scores gets four agreeing answers', { timeout: 360_000 }, async () => {
  // Ferdie pays eight fresh accounts at once (a fan-out, as a fraud pattern would).
  const keyring = new Keyring({ type: 'sr25519' });
  const mules = Array.from({ length: 8 }, (_, i) => keyring.addFromUri(`//ScoredMule${i}`).address);
  const start = await best();
  await sendChecked(api, api.tx.utility.batchAll(mules.map((m) => api.tx.balances.transferKeepAlive(m, 3n * UNITS))), ferdie);
  const n = await waitFor('the transfers finalized', async () => {
    const head = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    const at = await api.at(await api.rpc.chain.getBlockHash(head));
    return (await at.query.system.account(mules[0])).data.free.toBigInt() > 0n && head;
  }, { timeoutMs: 120_000, everyMs: 2_000 });
  const sql = `SELECT t.block, s.task, s.version, COUNT(*), MIN(s.score) >= 0 AND MAX(s.score) <= 1 FROM transfers t `
    + `JOIN transfer_scores s USING (block, idx) WHERE t.sender = '${ferdie.address}' AND t.block > ${start} AND s.task = ${task} `
    + 'GROUP BY t.block, s.task, s.version';
  const { events: posted } = await sendChecked(api,
    api.tx.computeMarket.postQuery({ Aggregation: { sql, dataset: `chain@${n}` } }, 30n * UNITS, 4, { minStake: 0, minReputation: 0 }, (await best()) + 60), ferdie);
  const query = posted.find(({ event }) => api.events.computeMarket.QueryPosted.is(event)).event.data.query.toNumber();
  let view;
  await waitFor(`query ${query} answered`, async () => {
    view = (await api.call.computeMarketApi.queriesOf(ferdie.address)).find((q) => q.id.toNumber() === query);
    return view?.status.isAnswered;
  }, { timeoutMs: 180_000, everyMs: 3_000 });
  const result = Buffer.from(view.result.unwrap()).toString('utf8');
  assert.deepEqual(view.answerers.map(String).sort(), Object.values(ADDR).sort(), `the four answers agreed: ${result}`);
  const lines = result.trim().split('\n');
  assert.equal(lines.length, 2, `one block of Ferdie's transfers, scored: ${result}`);
  const [block, scoredTask, version, count, inRange] = lines[1].split('\t').map(Number);
  assert.equal(scoredTask, task);
  assert.equal(count, 8, 'each of the eight transfers has a score');
  assert.equal(inRange, 1, 'the scores are probabilities');
  // The version that scored them is the task's current one at their block.
  const at = await api.at(await api.rpc.chain.getBlockHash(block));
  const current = (await at.query.builderMarket.tasks(task)).unwrap().current.unwrap().number.toNumber();
  assert.equal(version, current);
});
