// Throughput benchmark (not a test): sustained extrinsics per second on a dev node, with every
// transaction signed before submission starts, and mean block fullness.
//
// Run through scripts/bench/throughput.sh, which starts a fresh dev node and writes the report.
// Each workload builds one kind of call; later issues add market extrinsics here so that they are
// measured in the same run as the balance-transfer baseline and reported as a ratio to it.
import { writeFileSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { openDataDisputes } from '../lib/claims.mjs';
import { connect, sendChecked, sleep, submitAndWatch } from '../lib/node.mjs';

const RPC_PORT = Number(process.env.BENCH_RPC_PORT || 9950);
const PER_SENDER = Number(process.env.BENCH_TXS_PER_SENDER || 1000);
const OUT = process.env.BENCH_OUT || 'throughput.json';
// BENCH_SENDERS: other senders, comma-separated (the chain index's lag run leaves out Alice, whose
// workers sign too).
const SENDERS = process.env.BENCH_SENDERS ? process.env.BENCH_SENDERS.split(',') : ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];
// BENCH_TRANSFERS_ONLY=1: the transfer baseline alone.
const TRANSFERS_ONLY = process.env.BENCH_TRANSFERS_ONLY === '1';
// BENCH_ONLY=prefix[,prefix]: the transfer baseline and the workloads whose names start so
// (e.g. BENCH_ONLY=dataMarket), for one workload's ratio without the whole run.
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null;

const UNITS = 10n ** 12n;
// Claims and votes per run: a few hundred claims fit the runtime's open-claims caps
// (weightedVoting.maxOpenClaims, maxOpenPerClass) with room to spare.
const CLAIMS = Number(process.env.BENCH_CLAIMS || 120);
const VOTES = Number(process.env.BENCH_VOTES || 96);
const ZERO_HASH = new Uint8Array(32);
// The claims the vote workloads share (commit, then reveal).
const VOTE_STATE = {};
// Batched votes: BATCH_CALLS calls of BATCH votes each (at most the runtime's maxVotesPerCall).
const BATCH = Number(process.env.BENCH_VOTE_BATCH || 48);
const BATCH_CALLS = 2;
const BATCH_STATE = {};

/** Waits until no DataDispute claim is open or waiting (the class's slots are free for the next set). */
async function waitQuiet(api) {
  for (;;) {
    const open = (await api.query.weightedVoting.openPerClass('DataDispute')).toNumber();
    const waiting = (await api.query.weightedVoting.claimQueue()).length;
    if (open === 0 && waiting === 0) return;
    await sleep(1_000);
  }
}

/** 32 bytes that differ for every `n`. */
function bytes32(n) {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(0, n);
  b[31] = 0x42;
  return b;
}

/**
 * Workloads: name, an optional setup run once before signing, and a builder of the i-th call of
 * sender number `s` (with `next` the next sender). The first is the baseline the others are
 * reported against.
 */
const WORKLOADS = [
  {
    name: 'balances.transfer_keep_alive',
    build: (api, s, sender, next) => api.tx.balances.transferKeepAlive(next.address, UNITS),
  },
  {
    // Model-update claims as the learning workers submit them: one `submit_update` per task and
    // round from Alice (the dev chain's validator), each opening a ModelUpdate claim in the
    // weighted vote (an electorate snapshot). A run is one batch of CLAIMS claims on as many
    // tasks, deployed by the other senders.
    name: 'builderMarket.submit_update (model-update claims)',
    senders: [0],
    perSender: CLAIMS,
    async setup(api, pairs) {
      const deadline = (await api.rpc.chain.getHeader()).number.toNumber() + 2_000;
      const builders = pairs.slice(1);
      const perBuilder = Math.ceil(CLAIMS / builders.length);
      const deployed = await Promise.all(builders.map(async (b) => {
        const deploys = Array.from({ length: perBuilder }, () => api.tx.builderMarket.deployModel(benchTaskSpec(deadline)));
        const { events } = await sendChecked(api, api.tx.utility.batchAll(deploys), b);
        return events.filter(({ event }) => api.events.builderMarket.TaskDeployed.is(event)).map(({ event }) => event.data.task.toNumber());
      }));
      this.tasks = deployed.flat();
    },
    build(api, s, sender, next, i) {
      return api.tx.builderMarket.submitUpdate(this.tasks[i], ZERO_HASH, bytes32(i + 1), bytes32(i + 200_000));
    },
  },
  {
    // Votes: Alice commits a verdict on each of VOTES open claims (data disputes: Charlie
    // disputes deals Bob sold him, so that Alice, the dev chain's validator, is the electorate),
    // then, in the next workload, reveals them once the commit period is over.
    name: 'weightedVoting.commit_vote',
    senders: [0],
    perSender: VOTES,
    async setup(api, pairs) {
      const [alice, bob, charlie] = pairs;
      // Opened in batches that fit a block, one after the other: the disputes span a few
      // blocks, well inside the 20-block commit period.
      const opened = await openDataDisputes(api, { seller: bob, buyer: charlie, count: VOTES });
      VOTE_STATE.claims = opened.map((d) => d.claim.toNumber());
      VOTE_STATE.commitEnd = Math.max(...opened.map((d) => d.commitEnd.toNumber()));
      VOTE_STATE.salts = VOTE_STATE.claims.map((_, k) => bytes32(k + 500_000));
      this.claimed = await Promise.all(VOTE_STATE.claims.map(async (claim) => (await api.query.weightedVoting.claims(claim)).unwrap().commitment));
      this.commitments = await Promise.all(VOTE_STATE.claims.map((claim, k) =>
        api.call.weightedVotingApi.voteCommitment(claim, alice.address, 'Valid', VOTE_STATE.salts[k])));
    },
    build(api, s, sender, next, i) {
      return api.tx.weightedVoting.commitVote(VOTE_STATE.claims[i], this.claimed[i], this.commitments[i]);
    },
  },
  {
    name: 'weightedVoting.reveal_vote',
    senders: [0],
    perSender: VOTES,
    async setup(api) {
      while ((await api.rpc.chain.getHeader()).number.toNumber() < VOTE_STATE.commitEnd) await sleep(500);
    },
    build(api, s, sender, next, i) {
      return api.tx.weightedVoting.revealVote(VOTE_STATE.claims[i], 'Valid', VOTE_STATE.salts[i]);
    },
  },
  {
    // The same votes as a validator's worker sends them: one `commit_votes` of BATCH votes per
    // call, on a fresh set of disputes (opened once the ones above are decided: the class has
    // 96 slots). Reported per call and, with `votes_per_call`, per vote.
    name: `weightedVoting.commit_votes (${BATCH} votes a call)`,
    senders: [0],
    perSender: BATCH_CALLS,
    votesPerCall: BATCH,
    async setup(api, pairs) {
      const [alice, bob, charlie] = pairs;
      await waitQuiet(api);
      const opened = await openDataDisputes(api, { seller: bob, buyer: charlie, count: BATCH * BATCH_CALLS });
      BATCH_STATE.claims = opened.map((d) => d.claim.toNumber());
      BATCH_STATE.commitEnd = Math.max(...opened.map((d) => d.commitEnd.toNumber()));
      BATCH_STATE.salts = BATCH_STATE.claims.map((_, k) => bytes32(k + 600_000));
      const claimed = await Promise.all(BATCH_STATE.claims.map(async (claim) => (await api.query.weightedVoting.claims(claim)).unwrap().commitment));
      const commitments = await Promise.all(BATCH_STATE.claims.map((claim, k) =>
        api.call.weightedVotingApi.voteCommitment(claim, alice.address, 'Valid', BATCH_STATE.salts[k])));
      this.votes = BATCH_STATE.claims.map((claim, k) => ({ claim, claimCommitment: claimed[k], commitment: commitments[k] }));
    },
    build(api, s, sender, next, i) {
      return api.tx.weightedVoting.commitVotes(this.votes.slice(i * BATCH, (i + 1) * BATCH));
    },
  },
  {
    name: `weightedVoting.reveal_votes (${BATCH} votes a call)`,
    senders: [0],
    perSender: BATCH_CALLS,
    votesPerCall: BATCH,
    async setup(api) {
      while ((await api.rpc.chain.getHeader()).number.toNumber() < BATCH_STATE.commitEnd) await sleep(500);
    },
    build(api, s, sender, next, i) {
      const votes = BATCH_STATE.claims.map((claim, k) => ({ claim, verdict: 'Valid', salt: BATCH_STATE.salts[k] }));
      return api.tx.weightedVoting.revealVotes(votes.slice(i * BATCH, (i + 1) * BATCH));
    },
  },
  {
    // Last: the deals it makes are never delivered, and their timeouts cost the sellers
    // (Alice among them) reputation, which would drop Alice from the electorates above.
    // Even senders offer, odd senders bid, one unit at one price in one book: submitted round
    // robin, nearly every order crosses one resting order of the other side and makes a deal
    // (holds, deal record, delivery deadline), the rest rests (heap insert, expiry).
    name: 'dataMarket.post_offer + post_bid (matching)',
    // Offers and bids must alternate to cross; the transfer baseline is submitted sender by
    // sender, as in earlier reports.
    roundRobin: true,
    // About 17 blocks' worth at the block limit the benchmarked weights allow.
    perSender: Number(process.env.BENCH_MARKET_TXS_PER_SENDER || 500),
    async setup(api, pairs) {
      for (const p of pairs) await submitAndWatch(api.tx.dataMarket.registerKey(p.publicKey), p);
      this.expiresFrom = (await api.rpc.chain.getHeader()).number.toNumber() + 2_000;
    },
    build(api, s, sender, next, i) {
      const expires = this.expiresFrom + (i % 1_000); // spread expiries over many blocks
      if (s % 2 === 0) {
        const goods = { kind: 'RawData', commitment: { contentHash: new Uint8Array(32).fill(1), size: 1024, samples: 10, schema: new Uint8Array(32).fill(2) } };
        return api.tx.dataMarket.postOffer('bench', goods, UNITS, 1, expires, null);
      }
      return api.tx.dataMarket.postBid('bench', UNITS, 1, expires, null);
    },
  },
];

/** The claims benchmark's learning task: the e2e fraud model, open to every validator. */
function benchTaskSpec(deadline) {
  return {
    architecture: { Classifier: { layers: [{ outModes: [8, 8], inModes: [4, 4], rank: 4 }, { outModes: [1], inModes: [64], rank: 1 }] } },
    precision: 'Int8',
    metric: 'Auc',
    target: 990_000,
    evalSet: bytes32(7),
    hyper: { learningRatePpm: 10_000, batchSize: 64, localSteps: 20, seed: 42 },
    roundLength: 200,
    bounty: 100n * UNITS,
    trainers: { minStake: 0, minReputation: 0 },
    maxRounds: 2,
    deadline,
  };
}

async function runWorkload(api, workload, pairs) {
  if (workload.setup) await workload.setup(api, pairs);
  // 1. Sign everything first (immortal era, consecutive nonces per sender).
  const signed = [];
  const common = {
    era: 0, // immortal: pre-signed transactions must not expire while they wait
    blockHash: api.genesisHash,
    genesisHash: api.genesisHash,
    runtimeVersion: api.runtimeVersion,
    signedExtensions: api.registry.signedExtensions,
  };
  // Signed sender by sender; submitted in that order, or round robin (the i-th of every
  // sender, then the i+1-th) for workloads that need their senders interleaved.
  const perSender = workload.perSender ?? PER_SENDER;
  const senders = workload.senders ? workload.senders.map((k) => pairs[k]) : pairs;
  const bySender = [];
  for (let s = 0; s < senders.length; s++) {
    const sender = senders[s];
    const next = pairs[(pairs.indexOf(sender) + 1) % pairs.length];
    let nonce = (await api.rpc.system.accountNextIndex(sender.address)).toNumber();
    const txs = [];
    for (let i = 0; i < perSender; i++) {
      const tx = workload.build(api, s, sender, next, i);
      txs.push(tx.sign(sender, { ...common, nonce: nonce++ }).toHex());
    }
    bySender.push(txs);
  }
  if (workload.roundRobin) {
    for (let i = 0; i < perSender; i++) for (const txs of bySender) signed.push(txs[i]);
  } else {
    for (const txs of bySender) signed.push(...txs);
  }
  const total = signed.length;

  // 2. Watch blocks from now on.
  const startBlock = (await api.rpc.chain.getHeader()).number.toNumber();
  const maxNormal = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();

  // 3. Submit, keeping a bounded number of requests in flight.
  const t0 = Date.now();
  let submitted = 0;
  let rejected = 0;
  const inFlight = new Set();
  for (const hex of signed) {
    const p = api.rpc.author.submitExtrinsic(hex).then(() => { submitted++; }, () => { rejected++; });
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const submitSeconds = (Date.now() - t0) / 1000;

  // 4. Count what the chain included, block by block, until everything landed or it stalls.
  const blocks = [];
  let n = startBlock + 1;
  let included = 0;
  let failed = 0;
  const failures = {};
  let idle = 0;
  let stalled = 0;
  while (included < submitted && idle < 10) {
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    if (n > best) { await sleep(500); continue; }
    const hash = await api.rpc.chain.getBlockHash(n);
    const [block, weight, now, events] = await Promise.all([
      api.rpc.chain.getBlock(hash),
      api.query.system.blockWeight.at(hash),
      api.query.timestamp.now.at(hash),
      api.query.system.events.at(hash),
    ]);
    const count = block.block.extrinsics.filter((x) => x.isSigned).length;
    included += count;
    // A batch of votes succeeds as a call while single votes in it may fail: count those too.
    for (const { event } of events.filter(({ event }) => api.events.weightedVoting.VoteFailed.is(event))) {
      const name = (({ section, name }) => `${section}.${name} (in a batch)`)(api.registry.findMetaError(event.data.error.asModule));
      failures[name] = (failures[name] ?? 0) + 1;
    }
    for (const { event } of events.filter(({ event }) => api.events.system.ExtrinsicFailed.is(event))) {
      failed++;
      const error = event.data.dispatchError;
      const name = error.isModule ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(error.asModule)) : error.type;
      failures[name] = (failures[name] ?? 0) + 1;
    }
    // An empty block while the pool still holds transactions (it can be busy revalidating a
    // large pool) is not the end of the run; ten empty blocks with an empty pool are.
    const pooled = count === 0 ? (await api.rpc.author.pendingExtrinsics()).length : 0;
    idle = count === 0 && included > 0 && pooled === 0 ? idle + 1 : 0;
    stalled = count === 0 && pooled > 0 ? stalled + 1 : 0;
    if (stalled >= 40) break;
    blocks.push({ number: n, count, refTime: weight.normal.refTime.toBigInt(), timestamp: now.toNumber() });
    n++;
  }

  // Sustained rate: included transactions over the chain time from the block before the first
  // loaded block to the last loaded block.
  const loaded = blocks.filter((b) => b.count > 0);
  const first = loaded[0];
  const last = loaded[loaded.length - 1];
  const prevTimestamp = blocks.find((b) => b.number === first.number - 1)?.timestamp
    ?? (await api.query.timestamp.now.at(await api.rpc.chain.getBlockHash(first.number - 1))).toNumber();
  const seconds = (last.timestamp - prevTimestamp) / 1000;
  // Steady state: the loaded blocks between the first and the last (which are partly empty
  // because submission starts and ends mid-block).
  const middle = loaded.slice(1, -1);
  const steadyTps = middle.length
    ? middle.reduce((a, b) => a + b.count, 0) / ((middle[middle.length - 1].timestamp - loaded[0].timestamp) / 1000)
    : null;
  const fullness = loaded.map((b) => Number(b.refTime) / Number(maxNormal));
  // What blocks full of this call would carry: calls per unit of normal weight used, times a
  // full block, per block time. For small workloads that fit a block or two, this is the
  // figure that says what the chain could take; the measured rate only says how fast they came.
  const blockSeconds = api.consts.babe.expectedBlockTime.toNumber() / 1000;
  const weightBoundTps = included / fullness.reduce((a, b) => a + b, 0) / blockSeconds;
  return {
    workload: workload.name,
    senders: senders.length,
    per_sender: perSender,
    signed: total,
    submitted,
    rejected_by_pool: rejected,
    included,
    failed_in_block: failed,
    failures,
    submit_seconds: submitSeconds,
    blocks_with_load: loaded.length,
    chain_seconds: seconds,
    tps: included / seconds,
    steady_tps: steadyTps,
    mean_extrinsics_per_block: included / loaded.length,
    weight_bound_tps: weightBoundTps,
    mean_block_fullness_normal_weight: fullness.reduce((a, b) => a + b, 0) / fullness.length,
    max_block_fullness_normal_weight: Math.max(...fullness),
    ...(workload.votesPerCall ? { votes_per_call: workload.votesPerCall, weight_bound_votes_per_second: weightBoundTps * workload.votesPerCall } : {}),
  };
}

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519' });
const pairs = SENDERS.map((uri) => keyring.addFromUri(uri));
const api = await connect(RPC_PORT);
const results = [];
const chosen = TRANSFERS_ONLY ? WORKLOADS.slice(0, 1)
  : ONLY ? WORKLOADS.filter((w, i) => i === 0 || ONLY.some((prefix) => w.name.startsWith(prefix))) : WORKLOADS;
for (const workload of chosen) {
  const r = await runWorkload(api, workload, pairs);
  console.log(JSON.stringify(r));
  results.push(r);
}
if (TRANSFERS_ONLY) {
  writeFileSync(OUT, JSON.stringify({ per_sender: PER_SENDER, senders: SENDERS.length, results }, null, 2));
  await api.disconnect();
  process.exit(0);
}
const baseline = results[0].tps;
for (const r of results) r.ratio_to_transfers = r.tps / baseline;
// The vote's own limits on sustained claims, whatever the block space: open claims at once, and
// claims decided per block.
const modelUpdate = (await api.query.weightedVoting.classParameters('ModelUpdate')).unwrap();
const blockSeconds = api.consts.babe.expectedBlockTime.toNumber() / 1000;
const voting = {
  max_open_claims: api.consts.weightedVoting.maxOpenClaims.toNumber(),
  // Model-update claims are one class: at most this many of them open at once.
  max_open_per_class: api.consts.weightedVoting.maxOpenPerClass.toNumber(),
  // Tallies share a weight budget a block (each charged its worst case, `tally_bound`).
  tally_budget_ms: api.consts.weightedVoting.tallyBudget.refTime.toNumber() / 1e9,
  model_update_blocks_open: modelUpdate.commitPeriod.toNumber() + modelUpdate.revealPeriod.toNumber(),
  block_seconds: blockSeconds,
};
voting.claims_per_second_open_bound = voting.max_open_per_class / (voting.model_update_blocks_open * blockSeconds);
writeFileSync(OUT, JSON.stringify({ per_sender: PER_SENDER, senders: SENDERS.length, results, voting }, null, 2));
await api.disconnect();
process.exit(0);
