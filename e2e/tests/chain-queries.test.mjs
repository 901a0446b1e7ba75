// SQL over the chain's own data, on the four-validator local network with every worker on.
// Each validator's worker indexes every finalized block into its SQLite store (tables blocks,
// extrinsics, events, transfers) and advertises the dataset `chain`. Ferdie makes transfers,
// then asks all four validators (redundancy 4) `SELECT COUNT(*), SUM(amount) FROM transfers
// WHERE block <= N` over `chain@N`, a GROUP BY over events and the compute market's history in
// market_events: every answerer reveals the same bytes (no dispute) and the answer matches what
// polkadot.js reads from the chain itself.
// Then Dave's tables are deleted and he is restarted: he backfills from genesis (slowed down, so
// that he can be killed in the middle of it, as a crash would), resumes where he stopped after
// a restart and answers the same again. A block that does not exist yet is refused when the
// query is posted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToString } from '@polkadot/util';
import { ADDR as ALL_ADDR, UNITS, VALIDATORS } from '../lib/cycle.mjs';
import { LOCAL_PROM_PORTS, LOCAL_RPC_PORTS, connect, localNetWithEnv, sendChecked, waitFor, disposeNet } from '../lib/node.mjs';

const FEE = 30n * UNITS;
const LOOSE = { minStake: 0, minReputation: 0 };
// The four validators.
const ADDR = Object.fromEntries(VALIDATORS.map((name) => [name, ALL_ADDR[name]]));
const netDir = mkdtempSync(join(tmpdir(), 'loopx-chain-queries-'));
let api;
let ferdie;

before(async () => {
  await cryptoWaitReady();
  ferdie = new Keyring({ type: 'sr25519' }).addFromUri('//Ferdie');
  localNetWithEnv({}, netDir, 'start');
  api = await connect(LOCAL_RPC_PORTS.alice);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  try { localNetWithEnv({}, netDir, 'stop'); } finally { disposeNet(netDir); }
});

const bestBlock = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const advertisesChain = async (who) => {
  const c = await api.call.computeMarketApi.capabilities(who);
  return c.isSome && c.unwrap().tags.map((t) => u8aToString(t)).includes('chain/v2');
};

/** Events of the canonical blocks 0..=n as polkadot.js reads them, each with its block. */
async function chainEvents(n) {
  const out = [];
  for (let b = 0; b <= n; b++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(b));
    for (const { event } of await at.query.system.events()) out.push({ block: b, event });
  }
  return out;
}

/** Ferdie's query over the chain at block `n`, answered by all four; returns the result and the per-answerer hashes. */
async function ask(sql, n) {
  const start = await bestBlock();
  const { events: posted } = await sendChecked(api,
    api.tx.computeMarket.postQuery({ Aggregation: { sql, dataset: `chain@${n}` } }, FEE, 4, LOOSE, start + 60), ferdie);
  const query = posted.find(({ event }) => api.events.computeMarket.QueryPosted.is(event)).event.data.query.toNumber();
  let view;
  await waitFor(`query ${query} answered`, async () => {
    view = (await api.call.computeMarketApi.queriesOf(ferdie.address)).find((q) => q.id.toNumber() === query);
    return view?.status.isAnswered;
  }, { timeoutMs: 240_000, everyMs: 2_000 });
  const events = [];
  for (let b = start; b <= await bestBlock(); b++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(b));
    for (const { event } of await at.query.system.events()) events.push(event);
  }
  const of = (kind) => events.filter((e) => kind.is(e) && e.data.query.toNumber() === query).map((e) => e.data);
  return {
    result: u8aToString(view.result.unwrap()),
    answerers: view.answerers.map(String).sort(),
    hashes: Object.fromEntries(of(api.events.computeMarket.AnswerRevealed).map((r) => [r.who.toString(), r.resultHash.toHex()])),
    disputed: of(api.events.computeMarket.QueryDisputed).length > 0,
  };
}

/** Checks that all four answered `sql` at `n` with the same bytes and returns the result. */
async function askAll(sql, n) {
  const { result, answerers, hashes, disputed } = await ask(sql, n);
  assert.equal(disputed, false, 'the four answers agreed: no dispute');
  assert.deepEqual(answerers, Object.values(ADDR).sort(), 'all four answered');
  assert.equal(new Set(Object.values(hashes)).size, 1, `one answer, byte for byte: ${JSON.stringify(hashes)}`);
  return result;
}

const TRANSFERS_SQL = (n) => `SELECT COUNT(*), SUM(amount) FROM transfers WHERE block <= ${n}`;
const EVENTS_SQL = 'SELECT pallet, name, COUNT(*) FROM events GROUP BY pallet, name ORDER BY pallet, name';

let n;
let expectedTransfers;

test('every validator indexes the chain and advertises the dataset', { timeout: 240_000 }, async () => {
  await waitFor('all four advertising the chain dataset', async () => {
    for (const who of Object.values(ADDR)) if (!(await advertisesChain(who))) return false;
    return true;
  }, { timeoutMs: 200_000, everyMs: 2_000 });
});

test('a transfer count and sum at a block are answered alike by every answerer and match the chain', { timeout: 420_000 }, async () => {
  const amounts = [1n, 2n, 3n, 5n, 8n].map((x) => x * UNITS);
  const { blockHash } = await sendChecked(api,
    api.tx.utility.batchAll(amounts.map((a, i) => api.tx.balances.transferKeepAlive(Object.values(ADDR)[i % 4], a))), ferdie);
  n = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
  // What polkadot.js reads directly: every Balances.Transfer event in blocks 0..=n.
  const transfers = (await chainEvents(n)).filter(({ event }) => api.events.balances.Transfer.is(event));
  const sum = transfers.reduce((s, { event }) => s + event.data.amount.toBigInt(), 0n);
  assert.ok(transfers.length >= amounts.length, 'Ferdie\'s transfers are on chain');
  expectedTransfers = `COUNT(*)\tSUM(amount)\n${transfers.length}\t${sum}\n`;
  assert.equal(await askAll(TRANSFERS_SQL(n), n), expectedTransfers);
});

test('a GROUP BY over events matches the events polkadot.js reads', { timeout: 420_000 }, async () => {
  const counts = new Map();
  for (const { event } of await chainEvents(n)) {
    const key = `${event.section}.${event.method}`.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const result = await askAll(EVENTS_SQL, n);
  const lines = result.trimEnd().split('\n');
  assert.equal(lines[0], 'pallet\tname\tCOUNT(*)');
  const got = new Map(lines.slice(1).map((l) => l.split('\t')).map(([p, name, c]) => [`${p}.${name}`.toLowerCase(), Number(c)]));
  assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...counts].sort()));
  assert.ok(got.get('balances.transfer') >= 5);
});

test('the markets\' history: the compute market\'s queries and payments in market_events match what polkadot.js reads', { timeout: 420_000 }, async () => {
  // The two queries asked above were posted, answered and paid: read them back at a finalized block.
  const m = await bestBlock();
  await waitFor(`block ${m} finalized`, async () =>
    (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber() >= m, { timeoutMs: 60_000, everyMs: 1_000 });
  const expected = ['query\tname\taccount\tamount'];
  for (const { event } of await chainEvents(m)) {
    if (api.events.computeMarket.QueryPosted.is(event)) {
      expected.push(`${event.data.query}\tQueryPosted\t${event.data.client}\t${event.data.fee.toBigInt()}`);
    } else if (api.events.computeMarket.AnswerPaid.is(event)) {
      expected.push(`${event.data.query}\tAnswerPaid\t${event.data.who}\t${event.data.amount.toBigInt()}`);
    }
  }
  assert.ok(expected.length >= 1 + 2 + 8, 'two queries posted and eight answers paid');
  const sql = "SELECT query, name, account, amount FROM market_events WHERE pallet = 'ComputeMarket' "
    + "AND name IN ('QueryPosted', 'AnswerPaid') ORDER BY block, idx";
  assert.equal(await askAll(sql, m), `${expected.join('\n')}\n`);
});

test('a block that does not exist yet is refused at post', { timeout: 60_000 }, async () => {
  const future = (await bestBlock()) + 100;
  await sendChecked(api,
    api.tx.computeMarket.postQuery({ Aggregation: { sql: TRANSFERS_SQL(future), dataset: `chain@${future}` } }, FEE, 4, LOOSE, future - 40),
    ferdie, { expectError: 'computeMarket.ChainBlockNotYetProduced' });
  await sendChecked(api,
    api.tx.computeMarket.postQuery({ Aggregation: { sql: TRANSFERS_SQL(1), dataset: 'chain' } }, FEE, 4, LOOSE, (await bestBlock()) + 60),
    ferdie, { expectError: 'computeMarket.BadChainBlock' });
});

/** The file of Dave's chain tables (and its WAL and shared-memory files). */
function daveIndexFiles() {
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.startsWith('loopx-chain-index.sqlite')) found.push(path);
    }
  };
  walk(join(netDir, 'dave'));
  return found;
}

const promGauge = async (port, name) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(text.match(new RegExp(`^${name}(\\{[^}]*\\})? (\\d+)`, 'm'))?.[2] ?? NaN);
};

test('a validator whose tables are lost backfills from genesis, survives a crash in the middle and answers the same, keeping only the last 1,200 blocks', { timeout: 600_000 }, async () => {
  localNetWithEnv({}, netDir, 'stop', 'dave');
  const files = daveIndexFiles();
  assert.ok(files.length >= 1, 'Dave had chain tables');
  for (const f of files) rmSync(f);
  // A slow backfill (2 blocks a transaction, 1.5 s between; the chain is a few dozen blocks
  // long here): killed part-way.
  const height = () => promGauge(LOCAL_PROM_PORTS.dave, 'loopx_worker_chain_index_height').catch(() => NaN);
  localNetWithEnv({ LOOPX_NODE_ARGS: '--chain-index-keep-blocks 1200 --chain-index-batch 2 --chain-index-pause-ms 1500' }, netDir, 'start', 'dave');
  const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  await waitFor('Dave part-way through his backfill', async () => (await height()) >= 4, { timeoutMs: 120_000, everyMs: 200 });
  const reached = await height();
  localNetWithEnv({}, netDir, 'kill', 'dave');
  assert.ok(reached < finalized - 4, `the backfill was still running when Dave was killed (at #${reached} of #${finalized})`);
  // Restarted at full speed: he resumes after what he had written, not at genesis.
  // An operator's bound on the store: Dave advertises it, and is drawn for the ranges he keeps.
  localNetWithEnv({ LOOPX_NODE_ARGS: '--chain-index-keep-blocks 1200' }, netDir, 'start', 'dave');
  let resumedAt = NaN;
  await waitFor('Dave resuming his backfill', async () => {
    resumedAt = Number(readFileSync(join(netDir, 'dave.log'), 'utf8').match(/chain index: resuming at block #(\d+)/)?.[1] ?? NaN);
    return !Number.isNaN(resumedAt);
  }, { timeoutMs: 60_000, everyMs: 500 });
  assert.ok(resumedAt > reached, `Dave resumed at #${resumedAt}, after the #${reached} he had written`);
  const target = await bestBlock();
  await waitFor('Dave backfilled past the blocks made while he was down', async () =>
    (await promGauge(LOCAL_PROM_PORTS.dave, 'loopx_worker_chain_index_height').catch(() => NaN)) >= target,
  { timeoutMs: 300_000, everyMs: 2_000 });
  await waitFor('Dave advertising chain/v2/last1200', async () => {
    const c = await api.call.computeMarketApi.capabilities(ADDR.dave);
    return c.isSome && c.unwrap().tags.map((t) => u8aToString(t)).includes('chain/v2/last1200');
  }, { timeoutMs: 60_000, everyMs: 2_000 });
  // He was killed in a bulk backfill (without the secondary indexes), and built them at its end.
  assert.match(readFileSync(join(netDir, 'dave.log'), 'utf8'), /chain index: indexes built to block #\d+/);
  // The same question at the same block gets the same answer from all four, Dave included.
  assert.equal(await askAll(TRANSFERS_SQL(n), n), expectedTransfers);
  // A range of blocks: the transfers of blocks 1..=n, again four agreeing answers.
  assert.equal(await askAll('SELECT COUNT(*), SUM(amount) FROM transfers', `1..${n}`), expectedTransfers);
});
