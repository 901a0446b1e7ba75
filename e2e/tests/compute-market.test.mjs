// The compute market on the dev chain, from polkadot.js with nothing but the metadata. Dave is
// the client; Alice, the dev chain's one validator, advertises what she answers. No router
// acts, so after the 3-block router window the runtime draws her (the only eligible validator).
//
// TEST HARNESS: the node runs with `--no-workers` and this test plays Alice's worker through
// ordinary signed extrinsics (it computes the aggregation over a small table of its own,
// commits, tries a mismatching reveal, reveals), to check each step's rules and amounts to the
// unit. `worker-queries.test.mjs` has the node's own worker do it.
//
// 1. A paid aggregation query is answered and paid: 98 % to Alice, 2 % protocol fee.
// 2. A pass holder's free query is answered and paid from the reward pot (Dave pays nothing).
// 3. An inference query on a builder-market model version is answered. The dev chain cannot
//    make versions (one validator, and a claimant never votes on its own claim; the builder
//    market's e2e test makes one on the three-validator network), so root writes version 1 of
//    task 7 into the builder market's storage with `system.setStorage`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady, randomAsU8a } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToString } from '@polkadot/util';
import { port, sendChecked, startDevNode, waitFor } from '../lib/node.mjs';

const UNITS = 10n ** 12n;
const FEE = 10n * UNITS;
const FREE_QUERY_FEE = UNITS / 10n; // the runtime's FreeQueryFee
const PROTOCOL_PERCENT = 2n;
const DATASET = 'wallet-tx-v1';
const SQL = 'SELECT wallet, COUNT(*) AS n, AVG(amount) AS avg FROM tx GROUP BY wallet ORDER BY wallet';
// Alice's local table (her "data"), and what the SQL gives over it.
const TABLE = [['w1', 10], ['w1', 30], ['w2', 5], ['w3', 7], ['w3', 9], ['w3', 11]];
const LOOSE = { minStake: 0, minReputation: 0 };

let node;
let api;
let alice;
let dave;
let pot;
let escrow;

const modlAccount = (keyring, id) => keyring.encodeAddress(u8aConcat(stringToU8a('modl'), stringToU8a(id), new Uint8Array(20)));

before(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  alice = keyring.addFromUri('//Alice');
  dave = keyring.addFromUri('//Dave');
  pot = modlAccount(keyring, 'lpx/rwrd');
  escrow = modlAccount(keyring, 'lpx/cmpt');
  node = await startDevNode({ rpcPort: port(9954), p2pPort: port(30354), promPort: port(9664) });
  api = node.api;
});

after(async () => {
  await node?.stop();
});

const send = (tx, signer) => sendChecked(api, tx, signer);
const sendFailing = (tx, signer, name) => sendChecked(api, tx, signer, { expectError: name });
const eventOf = (events, kind) => events.find(({ event }) => kind.is(event))?.event.data;
const eventsOf = (events, kind) => events.filter(({ event }) => kind.is(event)).map(({ event }) => event.data);
const bestBlock = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const free = async (who) => (await api.query.system.account(who)).data.free.toBigInt();
const total = async (who) => {
  const { free: f, reserved } = (await api.query.system.account(who)).data;
  return f.toBigInt() + reserved.toBigInt();
};

/** What Alice's worker computes for SQL over TABLE. */
function aggregate() {
  const groups = new Map();
  for (const [wallet, amount] of TABLE) groups.set(wallet, [...(groups.get(wallet) ?? []), amount]);
  return JSON.stringify([...groups].map(([wallet, xs]) => [wallet, xs.length, xs.reduce((a, b) => a + b, 0) / xs.length]));
}

/** Waits for the runtime to assign `query` to Alice; returns its assignment as the API shows it. */
async function assignedToAlice(query) {
  let assigned;
  await waitFor(`query ${query} assigned to Alice`, async () => {
    assigned = (await api.call.computeMarketApi.assignedQueries(alice.address)).find((q) => q.id.toNumber() === query);
    return assigned !== undefined;
  }, { timeoutMs: 60_000, everyMs: 1_000 });
  return assigned;
}

/** Plays Alice's worker: commits, then reveals `result`; returns the events of the reveal. */
async function answerAsAlice(query, result) {
  const salt = randomAsU8a(32);
  const commitment = await api.call.computeMarketApi.answerCommitment(query, alice.address, result, salt);
  // The commit names what the answer is for: the hash of the stored query's kind. A commit that
  // names another question (the same number on another fork) is refused.
  const question = blake2AsHex((await api.query.computeMarket.queries(query)).unwrap().kind.toU8a());
  const { fee: wrongFee } = await sendFailing(api.tx.computeMarket.commitAnswer(query, blake2AsHex('another question'), commitment), alice, 'computeMarket.NotTheQueryAnswered');
  const { fee: commitFee } = await send(api.tx.computeMarket.commitAnswer(query, question, commitment), alice);
  // A reveal that does not match the commitment is refused.
  const { fee: badFee } = await sendFailing(api.tx.computeMarket.revealAnswer(query, `${result}!`, salt), alice, 'computeMarket.RevealMismatch');
  const revealed = await send(api.tx.computeMarket.revealAnswer(query, result, salt), alice);
  return { ...revealed, fees: wrongFee + commitFee + badFee + revealed.fee };
}

const postedId = (events) => eventOf(events, api.events.computeMarket.QueryPosted).query.toNumber();

test('a paid aggregation query is drawn to Alice, answered, and its fee split', { timeout: 180_000 }, async () => {
  const deadline = () => bestBlock().then((b) => b + 40);
  // Alice advertises the data set she holds, at 0.1 LPX an answer.
  await send(api.tx.computeMarket.advertise([DATASET], [], UNITS / 10n), alice);
  await sendFailing(api.tx.computeMarket.advertise([DATASET], [], 0), dave, 'computeMarket.NotValidator');

  // The SQL is checked for shape: one read-only statement.
  const aggregation = (sql) => ({ Aggregation: { sql, dataset: DATASET } });
  await sendFailing(api.tx.computeMarket.postQuery(aggregation('DELETE FROM tx'), FEE, 1, LOOSE, await deadline()), dave, 'computeMarket.NotReadOnly');
  await sendFailing(api.tx.computeMarket.postQuery(aggregation('SELECT 1; SELECT 2'), FEE, 1, LOOSE, await deadline()), dave, 'computeMarket.MultipleStatements');
  // What differs from node to node (the clock, randomness) is refused before anyone answers.
  for (const sql of ["SELECT datetime('now')", 'SELECT CURRENT_TIMESTAMP', 'SELECT random()']) {
    await sendFailing(api.tx.computeMarket.postQuery(aggregation(sql), FEE, 1, LOOSE, await deadline()), dave, 'computeMarket.NonDeterministicSql');
  }
  await sendFailing(api.tx.computeMarket.postQuery(aggregation(SQL), FEE, 0, LOOSE, await deadline()), dave, 'computeMarket.ZeroRedundancy');
  await sendFailing(api.tx.computeMarket.postQuery(aggregation(SQL), FEE, 1, LOOSE, 1), dave, 'computeMarket.DeadlinePassed');

  const daveBefore = await total(dave.address);
  const { events: posted, fee: postFee } = await send(api.tx.computeMarket.postQuery(aggregation(SQL), FEE, 1, LOOSE, await deadline()), dave);
  const query = postedId(posted);
  assert.equal((await api.query.system.account(dave.address)).data.reserved.toBigInt() >= FEE, true, 'the fee is held');

  const assigned = await assignedToAlice(query);
  assert.equal(u8aToString(assigned.kind.asAggregation.sql), SQL);
  const [view] = await api.call.computeMarketApi.queriesOf(dave.address);
  assert.ok(view.status.isAnswering, 'assigned by the runtime\'s draw');

  const result = aggregate();
  const aliceBefore = await total(alice.address);
  const { events, fees } = await answerAsAlice(query, result);
  const answered = eventOf(events, api.events.computeMarket.QueryAnswered);
  assert.ok(answered, 'the query was answered');
  assert.equal(u8aToString(answered.result), result);
  assert.deepEqual(answered.answerers.map(String), [alice.address]);
  // One answerer: nobody checked her result, so it is paid but earns no reputation or points.
  assert.equal(answered.verified.isTrue, false);
  assert.equal(eventOf(events, api.events.stakeReputation.ReputationChanged), undefined);
  const protocol = (FEE * PROTOCOL_PERCENT) / 100n;
  const paid = eventOf(events, api.events.computeMarket.AnswerPaid);
  assert.equal(paid.amount.toBigInt(), FEE - protocol);
  assert.equal(eventOf(events, api.events.computeMarket.ProtocolFeePaid).amount.toBigInt(), protocol);

  // The client reads the result back; to the unit, Alice gains the fee less the protocol
  // share and her transaction fees, Dave pays the fee and his.
  const [done] = await api.call.computeMarketApi.queriesOf(dave.address);
  assert.ok(done.status.isAnswered);
  assert.equal(u8aToString(done.result.unwrap()), result);
  assert.equal(await total(alice.address), aliceBefore + FEE - protocol - fees);
  assert.equal(await total(dave.address), daveBefore - FEE - postFee);

  // Dave cannot rate a lone answer (nobody checked it: a sybil client's Good ratings would
  // otherwise mint reputation); nor can anyone but the client.
  await sendFailing(api.tx.computeMarket.rate(query, alice.address, 'Good'), dave, 'computeMarket.UnverifiedAnswer');
  await sendFailing(api.tx.computeMarket.rate(query, alice.address, 'Good'), alice, 'computeMarket.NotQueryClient');
});

test('a pass holder\'s free query is answered and paid from the reward pot', { timeout: 240_000 }, async () => {
  await sendFailing(api.tx.computeMarket.postFreeQuery({ Aggregation: { sql: SQL, dataset: DATASET } }, 1, LOOSE, (await bestBlock()) + 40),
    dave, 'computeMarket.NoPass');
  await send(api.tx.computeMarket.lockForPass(100n * UNITS), dave);
  const pass = (await api.call.computeMarketApi.pass(dave.address)).unwrap();
  assert.equal(pass.quota.toNumber(), 1_000, 'the only pass holder gets every free query of the era');

  // The pot pays only from funds no ended era may still claim: wait for an era's carry-over.
  await waitFor('the reward pot to hold unallocated funds', async () => {
    const liabilities = (await api.query.rewards.liabilities()).toBigInt();
    return (await free(pot)) - liabilities > 2n * FREE_QUERY_FEE;
  }, { timeoutMs: 150_000, everyMs: 2_000 });

  const daveBefore = await total(dave.address);
  const { events: posted, fee: postFee } = await send(
    api.tx.computeMarket.postFreeQuery({ Aggregation: { sql: SQL, dataset: DATASET } }, 1, LOOSE, (await bestBlock()) + 40), dave);
  const query = postedId(posted);
  assert.ok(eventOf(posted, api.events.computeMarket.QueryPosted).free.isTrue);
  const spent = eventOf(posted, api.events.rewards.PotSpent);
  assert.equal(spent.to.toString(), escrow);
  assert.equal(spent.amount.toBigInt(), FREE_QUERY_FEE);
  assert.equal(eventOf(posted, api.events.computeMarket.FreeQueryUsed).used.toNumber(), 1);

  await assignedToAlice(query);
  const aliceBefore = await total(alice.address);
  const { events, fees } = await answerAsAlice(query, aggregate());
  assert.ok(eventOf(events, api.events.computeMarket.QueryAnswered));
  const protocol = (FREE_QUERY_FEE * PROTOCOL_PERCENT) / 100n;
  assert.equal(await total(alice.address), aliceBefore + FREE_QUERY_FEE - protocol - fees, 'Alice is paid from the pot');
  assert.equal(await total(dave.address), daveBefore - postFee, 'Dave pays nothing but his transaction fee');
  assert.equal(await total(escrow), 0n, 'nothing is left waiting in escrow');
});

test('an inference query on a model version is answered; unknown versions are refused', { timeout: 180_000 }, async () => {
  // Root writes version 1 of task 7 (see the header).
  const versions = api.query.builderMarket.versions;
  const versionType = api.registry.createLookupType(versions.creator.meta.type.asMap.value);
  const version = api.createType(versionType, {
    hash: randomAsU8a(32), parent: new Uint8Array(32), metric: 930_000, contributors: [alice.address], acceptedAt: 1,
  });
  await send(api.tx.sudo.sudo(api.tx.system.setStorage([[versions.key(7, 1), version.toHex()]])), alice);
  assert.equal((await versions(7, 1)).unwrap().metric.toNumber(), 930_000);

  const inference = (v) => ({ Inference: { model: 7, version: v, input: '0x0102030405' } });
  await sendFailing(api.tx.computeMarket.postQuery(inference(2), FEE, 1, LOOSE, (await bestBlock()) + 40), dave, 'computeMarket.UnknownModel');
  await sendFailing(api.tx.computeMarket.advertise([DATASET], [[7, 2]], UNITS / 10n), alice, 'computeMarket.UnknownModel');
  await send(api.tx.computeMarket.advertise([DATASET], [[7, 1]], UNITS / 10n), alice);

  const { events: posted } = await send(api.tx.computeMarket.postQuery(inference(1), FEE, 1, LOOSE, (await bestBlock()) + 40), dave);
  const query = postedId(posted);
  const assigned = await assignedToAlice(query);
  assert.equal(assigned.kind.asInference.version.toNumber(), 1);
  const { events } = await answerAsAlice(query, 'fraud probability 0.07');
  assert.equal(u8aToString(eventOf(events, api.events.computeMarket.QueryAnswered).result), 'fraud probability 0.07');
  const answers = eventsOf(events, api.events.computeMarket.AnswerPaid);
  assert.equal(answers.length, 1);
});
