// Compute-market benchmark (not a test): settled queries per second on a dev node whose own
// worker (Alice, the one validator) answers them. Clients post aggregation queries over the demo
// table, all signed before submission; the rate counts queries answered on chain
// (`QueryAnswered`: committed, revealed, paid) over the chain time from the block before the
// first post to the last answer.
//
// Run through scripts/bench/throughput.sh (on its node with workers), or by hand against a
// `loopx-node --dev` with workers: BENCH_RPC_PORT, BENCH_QUERIES_PER_CLIENT, BENCH_OUT.
import { writeFileSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToString } from '@polkadot/util';
import { connect, sleep } from '../lib/node.mjs';

const RPC_PORT = Number(process.env.BENCH_RPC_PORT || 9951);
// At most the runtime's live queries per client (256).
const PER_CLIENT = Number(process.env.BENCH_QUERIES_PER_CLIENT || 100);
const OUT = process.env.BENCH_OUT || 'compute.json';
const CLIENTS = ['//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];
const FEE = 10n ** 12n; // 1 LPX
const LOOSE = { minStake: 0, minReputation: 0 };
// Deadlines far enough for the whole load to be routed, answered and settled early.
const DEADLINE_BLOCKS = 200;

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519' });
const clients = CLIENTS.map((uri) => keyring.addFromUri(uri));
const alice = keyring.addFromUri('//Alice');
const api = await connect(RPC_PORT);

// Alice's worker advertises the demo table once it runs.
for (let i = 0; ; i++) {
  const c = await api.call.computeMarketApi.capabilities(alice.address);
  if (c.isSome && c.unwrap().tags.map((t) => u8aToString(t)).includes('wallet-demo')) break;
  if (i > 120) throw new Error("Alice's worker never advertised wallet-demo");
  await sleep(1_000);
}

// 1. Sign every post first (immortal era, consecutive nonces per client), round robin.
const common = {
  era: 0,
  blockHash: api.genesisHash,
  genesisHash: api.genesisHash,
  runtimeVersion: api.runtimeVersion,
  signedExtensions: api.registry.signedExtensions,
};
const startBlock = (await api.rpc.chain.getHeader()).number.toNumber();
const deadline = startBlock + DEADLINE_BLOCKS;
const bySender = [];
for (const [c, client] of clients.entries()) {
  let nonce = (await api.rpc.system.accountNextIndex(client.address)).toNumber();
  const txs = [];
  for (let i = 0; i < PER_CLIENT; i++) {
    // A different question each (answers are not shared between queries anyway).
    const sql = `SELECT COUNT(*) AS n FROM transactions WHERE amount > ${c * PER_CLIENT + i}`;
    const tx = api.tx.computeMarket.postQuery({ Aggregation: { sql, dataset: 'wallet-demo' } }, FEE, 1, LOOSE, deadline);
    txs.push(tx.sign(client, { ...common, nonce: nonce++ }).toHex());
  }
  bySender.push(txs);
}
const signed = [];
for (let i = 0; i < PER_CLIENT; i++) for (const txs of bySender) signed.push(txs[i]);

// 2. Submit.
let rejected = 0;
await Promise.all(signed.map((hex) => api.rpc.author.submitExtrinsic(hex).catch(() => { rejected++; })));

// 3. Follow the chain: our queries posted, answered, refunded or failed to post.
const ours = new Set(clients.map((c) => c.address));
const posted = new Set();
const answered = new Map(); // query -> block
const refunded = new Set();
const failures = {};
let carriedOver = 0; // blocks whose due steps did not all fit in the due budget
const blocks = [];
let n = startBlock + 1;
let lastPost = 0;
for (;;) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  if (n > best) { await sleep(500); continue; }
  const hash = await api.rpc.chain.getBlockHash(n);
  const [events, now] = await Promise.all([api.query.system.events.at(hash), api.query.timestamp.now.at(hash)]);
  for (const { event } of events) {
    if (api.events.computeMarket.QueryPosted.is(event) && ours.has(event.data.client.toString())) {
      posted.add(event.data.query.toNumber());
      lastPost = n;
    } else if (api.events.computeMarket.QueryAnswered.is(event) && posted.has(event.data.query.toNumber())) {
      answered.set(event.data.query.toNumber(), n);
    } else if (api.events.computeMarket.QueryRefunded.is(event) && posted.has(event.data.query.toNumber())) {
      refunded.add(event.data.query.toNumber());
    } else if (api.events.computeMarket.DueCarriedOver.is(event)) {
      carriedOver++;
    } else if (api.events.system.ExtrinsicFailed.is(event)) {
      const error = event.data.dispatchError;
      const name = error.isModule ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(error.asModule)) : error.type;
      failures[name] = (failures[name] ?? 0) + 1;
    }
  }
  blocks.push({ number: n, timestamp: now.toNumber(), answers: [...answered.values()].filter((b) => b === n).length });
  // Done when every query posted is settled and no post came for 5 blocks (or past every deadline).
  if (posted.size > 0 && answered.size + refunded.size >= posted.size && n - lastPost >= 5) break;
  if (n > deadline + 40) break;
  n++;
}

const firstPost = blocks.find((b) => b.number >= startBlock + 1);
const before = (await api.query.timestamp.now.at(await api.rpc.chain.getBlockHash(firstPost.number - 1))).toNumber();
const answerBlocks = [...answered.values()];
const lastAnswer = Math.max(...answerBlocks);
const lastTimestamp = blocks.find((b) => b.number === lastAnswer).timestamp;
const seconds = (lastTimestamp - before) / 1000;
// Steady: answers between the first and the last answering block, over that span.
const firstAnswer = Math.min(...answerBlocks);
const span = (lastTimestamp - blocks.find((b) => b.number === firstAnswer).timestamp) / 1000;
const inner = answerBlocks.filter((b) => b !== firstAnswer).length;
const perBlock = blocks.filter((b) => b.number >= firstAnswer && b.number <= lastAnswer).map((b) => b.answers);
const result = {
  clients: clients.length,
  per_client: PER_CLIENT,
  signed: signed.length,
  rejected_by_pool: rejected,
  posted: posted.size,
  answered: answered.size,
  refunded: refunded.size,
  failed_in_block: failures,
  first_post_block: firstPost.number,
  first_answer_block: firstAnswer,
  last_answer_block: lastAnswer,
  chain_seconds: seconds,
  settled_per_second: answered.size / seconds,
  steady_settled_per_second: span > 0 ? inner / span : null,
  answers_per_block: perBlock,
  max_due_per_block: api.consts.computeMarket.maxDuePerBlock.toNumber(),
  due_budget_ms: api.consts.computeMarket.dueBudget.refTime.toNumber() / 1e9,
  blocks_carrying_over: carriedOver,
};
console.log(JSON.stringify(result));
writeFileSync(OUT, JSON.stringify(result, null, 2));
await api.disconnect();
process.exit(0);
