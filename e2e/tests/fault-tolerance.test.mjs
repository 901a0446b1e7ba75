// Validators going down on the four-validator local network, every worker on, nothing played by
// the test but Ferdie (a builder and a client). GRANDPA needs more than 2/3 of the finality
// weight and the cap keeps every validator at 30 % or less, so any one of the four may be down.
//
// Dave is stopped cleanly (SIGTERM), then Ferdie deploys a learning task: blocks and finality go
// on, the other three train, claim and vote, and a query that drew all four is answered through
// the vote without him. Dave restarts, syncs, and answers again. Then Bob is killed (SIGKILL)
// right after committing an answer: restarted, he reveals what he had committed, once. Through it
// all no funds are lost: the total issuance moves by exactly what the eras minted and burned.
// Each test prints what it measured (time to resume finality, blocks in the window).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { u8aToString } from '@polkadot/util';
import { ADDR, Cycle, QUERY_FEE, VALIDATORS, nameOf } from '../lib/cycle.mjs';
import { LOCAL_RPC_PORTS, connect, heads, localNetWithEnv, sendChecked, waitFor, disposeNet } from '../lib/node.mjs';

const DATASET = 'wallet-demo';
const SQL = 'SELECT pattern, COUNT(*) AS n FROM transactions GROUP BY pattern ORDER BY pattern';
const ANYONE = { minStake: 0, minReputation: 0 };
const netDir = mkdtempSync(join(tmpdir(), 'loopx-faults-'));
const cycle = new Cycle({ netDir, faulty: false, dataNode: false });
const seen = []; // { n, hash, event } of every imported best block, for what is not final yet
let api;
let restarted;

before(async () => {
  await cycle.start();
  api = cycle.api;
  await api.rpc.chain.subscribeNewHeads(async (header) => {
    // A head that arrives while the network stops must not reject after the tests end.
    try {
      for (const { event } of await (await api.at(header.hash)).query.system.events()) {
        seen.push({ n: header.number.toNumber(), hash: header.hash.toHex(), event });
      }
    } catch { /* the node went away */ }
  });
});

after(async () => {
  await restarted?.disconnect().catch(() => {});
  try { await cycle.stop(); } finally { disposeNet(netDir); }
});

const net = (...args) => localNetWithEnv({}, netDir, ...args);

/** Takes `name` down with `how` ('stop' or 'kill'); resolves once finality passes the head of
 * the moment, with how long that took and how many blocks came meanwhile. */
async function takeDown(name, how) {
  const at = await heads(api);
  const started = Date.now();
  net(how, name);
  const resumed = await waitFor(`finality past #${at.best} without ${name}`, async () => {
    const h = await heads(api);
    return h.finalized > at.best && h;
  }, { timeoutMs: 120_000, everyMs: 500 });
  return { at, resumed, ms: Date.now() - started };
}

/** Posts Ferdie's SQL query for `redundancy` answers; returns its number. */
async function postQuery(redundancy) {
  const deadline = (await cycle.best()) + 60;
  const { events } = await sendChecked(api, api.tx.computeMarket.postQuery({ Aggregation: { sql: SQL, dataset: DATASET } },
    QUERY_FEE, redundancy, ANYONE, deadline), cycle.ferdie);
  return events.find(({ event }) => api.events.computeMarket.QueryPosted.is(event)).event.data.query.toNumber();
}

/** Waits for `query` to be answered in a finalized block; returns its answer and its events. */
async function answered(query) {
  const ofQuery = (name) => cycle.of(name, (d) => d.query.toNumber() === query);
  const done = await cycle.until(`query #${query} answered`, () => ofQuery('computeMarket.QueryAnswered')[0], { blocks: 100 });
  return {
    result: u8aToString(done.data.result),
    answerers: done.data.answerers.map(nameOf).sort(),
    committed: ofQuery('computeMarket.AnswerCommitted').map((e) => nameOf(e.data.who)),
    revealed: ofQuery('computeMarket.AnswerRevealed').map((e) => nameOf(e.data.who)),
    missed: ofQuery('computeMarket.AnswerMissed').map((e) => nameOf(e.data.who)),
    disputed: ofQuery('computeMarket.QueryDisputed').length > 0,
  };
}

const count = (list, name) => list.filter((x) => x === name).length;

test('the four validators finalize and their workers advertise', { timeout: 240_000 }, async () => {
  await cycle.until('the network finalizing', async () => (await cycle.finalized()) >= 3, { blocks: 10 });
  await cycle.until('every worker advertising the demo dataset', async () => {
    for (const name of VALIDATORS) {
      const c = await api.call.computeMarketApi.capabilities(ADDR[name]);
      if (c.isNone || !c.unwrap().tags.map((t) => u8aToString(t)).includes(DATASET)) return false;
    }
    return true;
  }, { blocks: 40 });
});

test('Dave stopped (SIGTERM): blocks and finality go on, the others train, vote and answer', { timeout: 900_000 }, async (t) => {
  const down = await takeDown('dave', 'stop');
  t.diagnostic(`finality passed #${down.at.best} (finalized #${down.at.finalized} at the stop) ${down.ms} ms after Dave stopped; best #${down.resumed.best}`);
  // A query that drew all four: Dave cannot answer, so the three answers go to the vote. Each
  // answer's claim needs both other live validators (Dave's share is missing from the quorum),
  // so the query is settled before the learning round starts: one workload at a time on the
  // three workers (a CI run once saw one of these votes missing with both at once; the node
  // logs of a failing run are kept now, see e2e/run.mjs).
  const query = await postQuery(4);
  const a = await answered(query);
  t.diagnostic(`query #${query}: committed ${a.committed}, revealed ${a.revealed}, missed ${a.missed}, disputed ${a.disputed}`);
  assert.deepEqual(a.answerers, ['alice', 'bob', 'charlie']);
  assert.deepEqual(a.missed, ['dave']);
  assert.ok(a.disputed, 'too few answers came, so the vote decided');
  assert.match(a.result, /^pattern\tn\n/);
  assert.match(a.result, /\nnormal\t\d+\n/);
  // Ferdie deploys the learning task once Dave is down (a worker trains and claims within a few
  // blocks, so a task deployed before the stop would have Dave's claim already).
  await cycle.deployTask();
  const r0 = await cycle.round(0);
  const trainers = r0.claims.map((c) => c.trainer);
  t.diagnostic(`round 0 without Dave: ${JSON.stringify(r0.claims.map(({ trainer, outcome }) => ({ trainer, outcome })))}`);
  assert.deepEqual([...trainers].sort(), ['alice', 'bob', 'charlie'], 'the three running validators claimed, once each');
  assert.ok(r0.claims.every((c) => c.outcome === 'Accepted'), 'their honest updates were accepted by the votes');
  assert.ok(r0.versions.length >= 1, 'round 0 made a version');
  // Finality kept up the whole time.
  const h = await heads(api);
  assert.ok(h.best - h.finalized <= 5, `finality lags #${h.best} by ${h.best - h.finalized} blocks`);
  t.diagnostic(`blocks #${down.at.best}..#${h.best} while Dave was down; finalized #${h.finalized}`);
});

test('Dave restarted: he syncs, rejoins, and answers again without repeating himself', { timeout: 600_000 }, async (t) => {
  const started = Date.now();
  net('start', 'dave');
  restarted = await connect(LOCAL_RPC_PORTS.dave);
  const target = (await heads(api)).finalized;
  await waitFor(`Dave finalizing #${target}`, async () => (await heads(restarted)).finalized >= target, { timeoutMs: 180_000, everyMs: 1_000 });
  const [mine, theirs] = await Promise.all([restarted, api].map(async (x) => (await x.rpc.chain.getBlockHash(target)).toHex()));
  assert.equal(mine, theirs, `the same block #${target}`);
  t.diagnostic(`Dave synced to finalized #${target} ${Date.now() - started} ms after his restart`);
  // A query all four must answer: Dave answers it.
  const query = await postQuery(4);
  const a = await answered(query);
  assert.deepEqual(a.answerers, [...VALIDATORS].sort(), 'all four agreed');
  assert.equal(count(a.committed, 'dave'), 1, 'Dave committed once');
  assert.equal(count(a.revealed, 'dave'), 1, 'and revealed once');
  // Round 1: nobody claims twice, and the honest updates are accepted.
  const r1 = await cycle.round(1);
  t.diagnostic(`round 1: ${JSON.stringify(r1.claims.map(({ trainer, outcome }) => ({ trainer, outcome })))}`);
  for (const name of VALIDATORS) assert.ok(count(r1.claims.map((c) => c.trainer), name) <= 1, `${name} claimed round 1 once at most`);
  assert.ok(r1.claims.filter((c) => c.outcome === 'Accepted').length >= 3, 'the updates were accepted');
});

test('Bob killed (SIGKILL) between his commit and his reveal: restarted, he reveals what he committed, once', { timeout: 600_000 }, async (t) => {
  const query = await postQuery(4);
  const committedAt = await waitFor('Bob\'s answer committed', () => seen.find(({ event }) =>
    api.events.computeMarket.AnswerCommitted.is(event) && event.data.query.toNumber() === query && event.data.who.toString() === ADDR.bob),
  { timeoutMs: 120_000, everyMs: 250 });
  const down = await takeDown('bob', 'kill');
  t.diagnostic(`Bob's commit in #${committedAt.n}; finality passed #${down.at.best} ${down.ms} ms after the kill`);
  net('start', 'bob');
  const a = await answered(query);
  t.diagnostic(`query #${query}: committed ${a.committed}, revealed ${a.revealed}, missed ${a.missed}`);
  assert.deepEqual(a.answerers, [...VALIDATORS].sort(), 'Bob\'s answer counted');
  assert.equal(count(a.committed, 'bob'), 1, 'Bob committed once');
  assert.equal(count(a.revealed, 'bob'), 1, 'and revealed once, after his restart');
  assert.deepEqual(a.missed, []);
});

test('no funds lost: the total issuance moved by exactly what the eras minted and burned', { timeout: 120_000 }, async (t) => {
  const i = await cycle.issuance(await cycle.finalized());
  t.diagnostic(`issuance #0 ${i.start} → #${i.block} ${i.end}: minted ${i.minted}, burned ${i.burned}`);
  assert.equal(i.end, i.start + i.minted - i.burned, 'to the last unit');
  // And no held fee was left behind: Ferdie's queries are all settled.
  const open = (await api.call.computeMarketApi.queriesOf(ADDR.ferdie)).filter((q) => !q.status.isAnswered);
  assert.deepEqual(open.map((q) => q.status.toString()), []);
});
