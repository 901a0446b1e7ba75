// The node's native worker answers compute-market queries on the dev chain, with nobody playing
// Alice: her node advertises the demo dataset it holds (`wallet-demo`, the `transactions` table
// of the seeded synthetic wallet-transaction stream), is drawn for Dave's aggregation queries,
// runs the SQL in embedded SQLite, commits and reveals through transactions the runtime builds
// and signs with her `lpxw` key (inserted by `--dev`). Dave reads the answers back; the fee is
// split 98 % to Alice, 2 % protocol fee. Restarted, the worker resumes from the chain state and
// its stored secret: it neither advertises again nor sends a transaction that fails. Alice's
// operator also gives her node a CSV file of its own (`--sql-dataset cities:cities=<file>`): it
// is advertised under a tag that names the file's content and answered like the demo table.
// Last, a learning task whose training is slow (fault injection) does not hold answers up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { u8aToHex, u8aToString } from '@polkadot/util';
import { port, sendChecked, startDevNode, waitFor } from '../lib/node.mjs';
import { fraudTaskSpec } from '../lib/cycle.mjs';

const UNITS = 10n ** 12n;
const FEE = 10n * UNITS;
const PROTOCOL_PERCENT = 2n;
const DATASET = 'wallet-demo';
const PROM_PORT = port(9666);
const LOOSE = { minStake: 0, minReputation: 0 };
// The operator's own table, and the tag its content gets: `<name>#<8 bytes of blake2-256>`.
const CITIES = 'city,population,area\nParis,2102650,105.4\nLyon,522250,47.87\nNice,,71.9\n';
const CITIES_TAG = `cities#${u8aToHex(blake2AsU8a(CITIES, 256).slice(0, 8), -1, false)}`;

let node;
let api;
let alice;
let dave;

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  dave = keyring.addFromUri('//Dave');
  const csv = join(mkdtempSync(join(tmpdir(), 'loopx-cities-')), 'cities.csv');
  writeFileSync(csv, CITIES);
  node = await startDevNode({
    rpcPort: port(9956), p2pPort: port(30356), promPort: PROM_PORT, workers: true,
    args: ['--dev', '--sql-dataset', `cities:cities=${csv}`, '--worker-fault', 'slow-training'],
  });
  api = node.api;
});

after(async () => {
  await node?.stop();
});

const send = (tx, signer) => sendChecked(api, tx, signer);
const bestBlock = async () => (await api.rpc.chain.getHeader()).number.toNumber();

/** Posts an aggregation query as Dave; returns its id. */
async function post(sql, dataset = DATASET) {
  const deadline = (await bestBlock()) + 40;
  const { events } = await send(api.tx.computeMarket.postQuery({ Aggregation: { sql, dataset } }, FEE, 1, LOOSE, deadline), dave);
  return events.find(({ event }) => api.events.computeMarket.QueryPosted.is(event)).event.data.query.toNumber();
}

/** Waits until Dave's query `id` is answered; returns its view. */
async function answered(id) {
  let view;
  await waitFor(`query ${id} answered by Alice's worker`, async () => {
    view = (await api.call.computeMarketApi.queriesOf(dave.address)).find((q) => q.id.toNumber() === id);
    return view?.status.isAnswered;
  }, { timeoutMs: 120_000, everyMs: 1_000 });
  return view;
}

/** The events of the block where `query` was answered (found by walking back from the best block). */
async function answeringEvents(query) {
  let hash = await api.rpc.chain.getBlockHash();
  for (let i = 0; i < 60; i++) {
    const events = await (await api.at(hash)).query.system.events();
    const found = events.some(({ event }) => api.events.computeMarket.QueryAnswered.is(event) && event.data.query.toNumber() === query);
    if (found) return events;
    hash = (await api.rpc.chain.getHeader(hash)).parentHash;
  }
  throw new Error(`no QueryAnswered event for query ${query} in the last 60 blocks`);
}

const rows = (view) => u8aToString(view.result.unwrap()).trimEnd().split('\n').map((line) => line.split('\t'));

test('Alice\'s worker advertises the demo dataset by itself', { timeout: 120_000 }, async () => {
  await waitFor('Alice\'s capabilities', async () => {
    const c = await api.call.computeMarketApi.capabilities(alice.address);
    return c.isSome && c.unwrap().tags.map((t) => u8aToString(t)).includes(DATASET);
  }, { timeoutMs: 90_000, everyMs: 1_000 });
});

test('aggregation queries are answered by the worker, agree with each other, and the fee is split', { timeout: 300_000 }, async () => {
  const group = await post('SELECT fraud, COUNT(*) AS n, AVG(amount) AS avg_amount FROM transactions GROUP BY fraud ORDER BY fraud');
  const count = await post('SELECT COUNT(*) AS n FROM transactions');
  const broken = await post('SELECT COUNT(*) FROM no_such_table');

  const byFraud = rows(await answered(group));
  assert.deepEqual(byFraud[0], ['fraud', 'n', 'avg_amount']);
  assert.deepEqual(byFraud.slice(1).map((r) => r[0]), ['0', '1'], 'one row for honest and one for planted fraud');
  const total = rows(await answered(count));
  assert.deepEqual(total[0], ['n']);
  const n = Number(total[1][0]);
  assert.ok(n >= 5_000, `the demo table has its 5,000 generated transfers (and a few more), not ${n}`);
  assert.equal(byFraud.slice(1).reduce((s, r) => s + Number(r[1]), 0), n, 'GROUP BY counts add up to COUNT(*)');
  const fraudShare = Number(byFraud[2][1]) / n;
  assert.ok(fraudShare > 0.02 && fraudShare < 0.1, `about 5 % planted fraud, not ${fraudShare}`);
  for (const r of byFraud.slice(1)) assert.ok(Number(r[2]) > 0, 'average amounts are positive');

  // A statement SQLite rejects is answered with its error kind (SQLite's code, not its
  // message, which changes between versions) rather than left unanswered.
  const error = u8aToString((await answered(broken)).result.unwrap());
  assert.equal(error, '#error\tsqlite\t1\n');

  const events = await answeringEvents(group);
  const of = (kind) => events.filter(({ event }) => kind.is(event) && event.data.query.toNumber() === group).map(({ event }) => event.data);
  const protocol = (FEE * PROTOCOL_PERCENT) / 100n;
  const [paid] = of(api.events.computeMarket.AnswerPaid);
  assert.equal(paid.who.toString(), alice.address);
  assert.equal(paid.amount.toBigInt(), FEE - protocol);
  assert.equal(of(api.events.computeMarket.ProtocolFeePaid)[0].amount.toBigInt(), protocol);
});

test('an operator\'s CSV dataset is advertised under a tag naming its content and answered', { timeout: 180_000 }, async () => {
  const tags = (await api.call.computeMarketApi.capabilities(alice.address)).unwrap().tags.map((t) => u8aToString(t));
  assert.ok(tags.includes(CITIES_TAG), `${CITIES_TAG} among ${tags}`);
  const query = await post('SELECT COUNT(*), SUM(population), COUNT(population), MAX(area) FROM cities', CITIES_TAG);
  const [header, row] = rows(await answered(query));
  assert.deepEqual(header, ['COUNT(*)', 'SUM(population)', 'COUNT(population)', 'MAX(area)']);
  assert.deepEqual(row, ['3', '2624900', '2', '105.4'], 'typed columns, the empty cell NULL');
});

test('nobody can make the node sign through RPC: the worker API needs the keystore only the worker registers', { timeout: 30_000 }, async () => {
  await assert.rejects(api.call.workerApi.workerAccount(), /keystore/i);
  const action = { CommitAnswer: { query: 0, commitment: `0x${'11'.repeat(32)}` } };
  await assert.rejects(api.call.workerApi.submit(action, 0, null), /keystore/i);
});

/** Count of `loopx_worker_transactions_submitted{call}` on the node's Prometheus endpoint. */
async function submittedCount(call) {
  const text = await (await fetch(`http://127.0.0.1:${PROM_PORT}/metrics`)).text();
  return Number(text.match(new RegExp(`loopx_worker_transactions_submitted\\{[^}]*call="${call}"[^}]*\\} (\\d+)`))?.[1] ?? 0);
}

test('the worker reports its transactions in Prometheus', { timeout: 30_000 }, async () => {
  assert.ok(await submittedCount('advertise') >= 1, 'advertised');
  assert.ok(await submittedCount('commit_answer') >= 3, 'three commits');
  assert.ok(await submittedCount('reveal_answer') >= 3, 'three reveals');
  const text = await (await fetch(`http://127.0.0.1:${PROM_PORT}/metrics`)).text();
  assert.match(text, /loopx_worker_answer_seconds_count(\{[^}]*\})? [1-9]/);
});

test('restarted, the worker resumes from the chain: no second advertisement, no failed transaction, new queries answered', { timeout: 240_000 }, async () => {
  const before = await bestBlock();
  api = await node.restart();
  await waitFor('blocks after the restart', async () => (await bestBlock()) > before + 2, { timeoutMs: 60_000 });
  const query = await post('SELECT COUNT(*) AS n FROM transactions WHERE fraud = 1');
  const [header, count] = rows(await answered(query));
  assert.deepEqual(header, ['n']);
  assert.ok(Number(count[0]) > 0);
  assert.equal(await submittedCount('advertise'), 0, 'the advertisement on chain is up to date: not sent again');
  assert.ok(await submittedCount('commit_answer') >= 1);

  // No transaction of Alice's failed in the whole run (a duplicate commit or reveal would).
  const end = await bestBlock();
  for (let n = 1; n <= end; n++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    const failed = (await at.query.system.events()).filter(({ event }) => api.events.system.ExtrinsicFailed.is(event));
    if (failed.length === 0) continue;
    const block = await api.rpc.chain.getBlock(await api.rpc.chain.getBlockHash(n));
    for (const { phase } of failed) {
      const xt = block.block.extrinsics[phase.asApplyExtrinsic.toNumber()];
      assert.ok(!(xt.isSigned && xt.signer.toString() === alice.address), `Alice's ${xt.method.section}.${xt.method.method} failed in block ${n}`);
    }
  }
});

test('a slow local update trains beside the block loop: queries are answered while it runs', { timeout: 240_000 }, async () => {
  // Alice runs with `--worker-fault slow-training`: each round's local update waits a minute
  // before it trains, as on a very slow machine (nothing else in this file trains). A worker
  // that trained in its block loop would answer nothing for that minute.
  const ferdie = new Keyring({ type: 'sr25519' }).addFromUri('//Ferdie');
  const spec = { ...fraudTaskSpec((await bestBlock()) + 1_000), maxRounds: 1 };
  const { events } = await send(api.tx.builderMarket.deployModel(spec), ferdie);
  const task = events.find(({ event }) => api.events.builderMarket.TaskDeployed.is(event)).event.data.task.toNumber();
  await waitFor(`Alice's worker training task ${task}`, async () => node.log().includes(`task ${task} round 0: training in the background`),
    { timeoutMs: 60_000, everyMs: 500 });
  const query = await post('SELECT COUNT(*) AS n FROM transactions WHERE amount > 10');
  const [header] = rows(await answered(query));
  assert.deepEqual(header, ['n']);
  assert.ok(!node.log().includes(`task ${task} round 0: trained`), 'answered while the round was still training');
});
