// The data cycle between native workers, with nothing played by the test: the dev chain's
// Alice (a validator, workers on) and a data node run by Dave (`--data-node`, his `lpxw` key
// inserted with `loopx-node key insert`, not a validator). Dave's node offers its shard of the
// demo wallet data; Alice's worker bids for it; when they match, Dave's node seals the CSV to
// Alice's registered X25519 key and serves it over the node's deals protocol; Alice's worker
// fetches it by the hash Dave delivered, opens it, checks it against the offer's commitment,
// confirms, and trains on it. The test only watches the chain, the metrics and the logs.
//
// Dave's own key never touches his node: its keystore holds a worker key (`//Dave//worker`)
// that Dave made his `Worker` proxy (`proxy.addProxy`), and the node runs with
// `--worker-stash <Dave>`. Everything the node does lands as Dave's (offers, key, delivery,
// payment) while the worker key signs and pays the fees; it cannot move Dave's funds or
// bonds, since the `Worker` proxy type lets worker calls through only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { port, rpcCall, runNode, sendChecked, startDevNode, subscribeEvents, tmpDir, waitFor } from '../lib/node.mjs';

const ALICE = { rpcPort: port(9960), p2pPort: port(30360), promPort: port(9670) };
const DATA_NODE = { rpcPort: port(9961), p2pPort: port(30361), promPort: port(9671) };
const ALICE_NODE_KEY = '0000000000000000000000000000000000000000000000000000000000000002';
const DAVE = '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy';
const ALICE_ACCOUNT = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const UNITS = 10n ** 12n;
const keyDir = tmpDir('loopx-deals-');
let alice;
let dataNode;
let dave;
let daveWorker;
let daveNonceBefore;
const seen = [];

/** The value of the Prometheus sample `name` with `label` in its labels (0 when absent). */
async function metric(port, name, label = '') {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.match(new RegExp(`^(?:substrate_)?${name}(?:\\{[^}]*\\})? `)) && l.includes(label));
  return Number(line?.split(' ').pop() ?? 0);
}

const dataEvent = (name, match = () => true) => seen.find((e) => e.section === 'dataMarket' && e.method === name && match(e.data))?.data;

before(async () => {
  const keyFile = join(keyDir, 'alice.key');
  writeFileSync(keyFile, ALICE_NODE_KEY);
  const alicePeerId = runNode(['key', 'inspect-node-key', '--file', keyFile]).stdout.trim();
  alice = await startDevNode({ ...ALICE, workers: true, args: ['--dev', '--node-key', ALICE_NODE_KEY] });
  // Every event of every new best block of Alice's chain, kept for the assertions.
  await subscribeEvents(alice.api, (header, events) => {
    for (const { event } of events) seen.push({ section: event.section, method: event.method, data: event.data, block: header.number.toNumber() });
  });
  // What Dave does once, from his wallet: make a fresh worker key his Worker proxy and give it
  // a little for fees.
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  dave = keyring.addFromUri('//Dave');
  daveWorker = keyring.addFromUri('//Dave//worker');
  await sendChecked(alice.api, alice.api.tx.proxy.addProxy(daveWorker.address, 'Worker', 0), dave);
  await sendChecked(alice.api, alice.api.tx.balances.transferKeepAlive(daveWorker.address, 10n * UNITS), dave);
  daveNonceBefore = (await alice.api.query.system.account(DAVE)).nonce.toNumber();
  dataNode = await startDevNode({
    ...DATA_NODE,
    workers: true,
    setup(base) {
      // What an operator does once: put the worker key (not Dave's) into the node's keystore.
      const r = runNode(['key', 'insert', '--base-path', base, '--chain', 'dev', '--key-type', 'lpxw', '--scheme', 'sr25519', '--suri', '//Dave//worker']);
      assert.equal(r.status, 0, r.stderr);
    },
    args: ['--chain', 'dev', '--data-node', '--worker-stash', DAVE, '--allow-private-ip',
      '--bootnodes', `/ip4/127.0.0.1/tcp/${ALICE.p2pPort}/p2p/${alicePeerId}`],
  });
});

after(async () => {
  await dataNode?.stop().catch(() => {});
  await alice?.stop().catch(() => {});
  rmSync(keyDir, { recursive: true, force: true });
});

test('the data node sells its data to Alice: offer, bid, sealed delivery over the network, confirmation, payment', { timeout: 400_000 }, async (t) => {
  const api = alice.api;
  // Free plus held: the bond of an offer Dave's node (re)posts is held, still his.
  const owned = async () => { const { free, reserved } = (await api.query.system.account(DAVE)).data; return free.toBigInt() + reserved.toBigInt(); };
  const daveBefore = await owned();
  const offered = await waitFor('Dave\'s node offering its data', () => dataEvent('OrderPosted', (d) => d.owner.toString() === DAVE),
    { timeoutMs: 120_000, everyMs: 1_000 });
  assert.equal(offered.side.toString(), 'Offer');
  assert.ok(dataEvent('KeyRegistered', (d) => d.who.toString() === DAVE), 'Dave registered his key first');
  const [offer] = (await api.call.dataMarketApi.bestOrders('wallet-tx', 'Offer', 1)).filter((o) => o.owner.toString() === DAVE);
  const goods = offer.goods.unwrap();
  // (`size` of a polkadot.js struct is its number of fields: read the field from JSON.)
  const offeredSize = Number(goods.commitment.toJSON().size);
  assert.ok(offeredSize > 100_000, `${offeredSize} bytes of CSV`);
  assert.equal(goods.kind.toString(), 'RawData');
  assert.ok(goods.commitment.samples.toNumber() > 1_000, 'the whole shard is offered');

  // Alice's worker registers her key, bids, and the orders match.
  const matched = await waitFor('a deal between Dave and Alice', () => dataEvent('DealMatched'), { timeoutMs: 120_000, everyMs: 1_000 });
  assert.ok(dataEvent('KeyRegistered', (d) => d.who.toString() === ALICE_ACCOUNT), 'Alice registered her key');
  const deal = matched.deal.toNumber();
  const record = (await api.query.dataMarket.deals(deal)).unwrap();
  assert.equal(record.seller.toString(), DAVE);
  assert.equal(record.buyer.toString(), ALICE_ACCOUNT);
  assert.equal(record.price.toBigInt(), UNITS, 'at the data node\'s default price');
  assert.deepEqual(record.buyerKey.toU8a(), (await api.call.dataMarketApi.encryptionKey(ALICE_ACCOUNT)).unwrap().toU8a());

  // Dave's node seals and delivers; Alice's fetches, checks and confirms; the deal settles.
  const delivered = await waitFor('the delivery', () => dataEvent('Delivered', (d) => d.deal.toNumber() === deal), { timeoutMs: 60_000, everyMs: 1_000 });
  const settled = await waitFor('the settlement', () => dataEvent('DealSettled', (d) => d.deal.toNumber() === deal), { timeoutMs: 90_000, everyMs: 1_000 });
  assert.equal(settled.seller.toString(), DAVE);
  assert.equal(settled.toSeller.toBigInt() + settled.protocolFee.toBigInt(), UNITS);
  assert.equal(settled.protocolFee.toBigInt(), UNITS / 50n, '2 % protocol fee');
  assert.ok(!dataEvent('Disputed'), 'no dispute');
  assert.equal(await metric(ALICE.promPort, 'loopx_worker_transactions_submitted', 'call="confirm"'), 1);
  assert.equal(await metric(DATA_NODE.promPort, 'loopx_worker_transactions_submitted', 'call="deliver"'), 1);
  assert.ok(await metric(DATA_NODE.promPort, 'loopx_worker_network_bytes', 'direction="sent"') > offeredSize,
    'the sealed payload left the data node over the network');
  assert.ok(await metric(ALICE.promPort, 'loopx_worker_network_bytes', 'direction="received"') > offeredSize,
    'and reached Alice');
  // The ciphertext on chain is the hash of what was sealed, not of the plaintext.
  assert.notEqual(delivered.ciphertext.toHex(), goods.commitment.contentHash.toHex());

  // Dave was paid 98 % of the price (minus his transaction fees, well under 0.1 LPX here; the
  // bonds of his offers are held and come back, so they count as his).
  const daveAfter = await owned();
  assert.ok(daveAfter > daveBefore + (UNITS * 98n) / 100n - UNITS / 10n, `Dave ${daveBefore} → ${daveAfter}`);
  assert.equal((await api.call.dataMarketApi.dealsOf(DAVE)).length, 0, 'nothing left open');
  const at = (name) => seen.find((e) => e.method === name && e.data.deal?.toNumber() === deal)?.block;
  t.diagnostic(`deal #${deal}: ${goods.commitment.samples.toNumber()} rows, ${offeredSize} bytes of CSV; matched at block ${at('DealMatched')}, `
    + `delivered ${at('Delivered')}, settled ${at('DealSettled')}; Dave +${daveAfter - daveBefore} plancks`);

  // Alice trains on the rows she bought and keeps them for a restart; she does not buy the
  // same data twice.
  assert.match(alice.log(), /deal #\d+: payload opened and matches the offer \(\d+ rows\); confirming/);
  assert.match(alice.log(), /bought rows join the training data/);
  assert.match(dataNode.log(), /payload sealed to the buyer's key/);
  await waitFor('Dave\'s node offering again', () => seen.filter((e) => e.method === 'OrderPosted' && e.data.owner.toString() === DAVE).length >= 2,
    { timeoutMs: 60_000, everyMs: 1_000 });
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  await waitFor('8 more blocks', async () => (await api.rpc.chain.getHeader()).number.toNumber() >= best + 8, { timeoutMs: 60_000 });
  assert.equal(seen.filter((e) => e.method === 'DealMatched').length, 1, 'Alice did not buy the same data twice');
});

test('the data node is not a validator and its payloads are served only sealed', async () => {
  const roles = await rpcCall(DATA_NODE.rpcPort, 'system_nodeRoles');
  assert.deepEqual(roles, ['Full']);
  assert.doesNotMatch(dataNode.log(), /workers started \(compute market/, 'no validator workers on a data node');
});

test('the data node acted as Dave through its Worker proxy key, which cannot touch his funds', async () => {
  const api = alice.api;
  // Dave's key signed nothing since the node started; his worker key signed everything.
  assert.equal((await api.query.system.account(DAVE)).nonce.toNumber(), daveNonceBefore, 'Dave\'s own key signed nothing');
  assert.ok((await api.query.system.account(daveWorker.address)).nonce.toNumber() >= 3, 'the worker key signed the node\'s calls');
  const executed = seen.filter((e) => e.section === 'proxy' && e.method === 'ProxyExecuted');
  assert.ok(executed.length >= 3, `${executed.length} proxied calls`);
  assert.ok(executed.every((e) => e.data.result.isOk), 'every worker call dispatched');
  assert.match(dataNode.log(), /workers act for 5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy as its Worker proxy/);

  // A stolen worker key cannot move Dave's money or stake: the proxy type filters the call.
  // Free plus held (offer bonds the node posts meanwhile are held, still Dave's).
  const owned = async () => { const { free, reserved } = (await api.query.system.account(DAVE)).data; return free.toBigInt() + reserved.toBigInt(); };
  const before = await owned();
  for (const call of [api.tx.balances.transferKeepAlive(daveWorker.address, UNITS), api.tx.stakeReputation.bond(UNITS),
    api.tx.proxy.addProxy(daveWorker.address, 'Any', 0)]) {
    const { events } = await sendChecked(api, api.tx.proxy.proxy(DAVE, null, call), daveWorker);
    const result = events.find(({ event }) => api.events.proxy.ProxyExecuted.is(event)).event.data.result;
    assert.ok(result.isErr, `${call.method.section}.${call.method.method} went through`);
    assert.equal(api.registry.findMetaError(result.asErr.asModule).name, 'CallFiltered');
  }
  assert.ok(await owned() >= before, 'Dave\'s funds untouched');
  assert.equal((await api.query.proxy.proxies(DAVE))[0].length, 1, 'no proxy added');
});
