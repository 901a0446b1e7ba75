// The dev chain (`loopx-node --dev`) seen from polkadot.js with nothing but the metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, waitFor, heads, submitAndWatch } from '../lib/node.mjs';

let node;
let api;
let keyring;

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519' });
  node = await startDevNode();
  api = node.api;
});

after(async () => {
  await node?.stop();
});

const free = async (address) => (await api.query.system.account(address)).data.free.toBigInt();

test('the dev chain produces and finalizes block 3 or later', { timeout: 90_000 }, async () => {
  const { best, finalized } = await waitFor('finalized block >= 3', async () => {
    const h = await heads(api);
    return h.finalized >= 3 ? h : null;
  }, { timeoutMs: 80_000 });
  assert.ok(finalized >= 3, `finalized #${finalized}`);
  assert.ok(best >= finalized);
});

test('chain properties say LPX with 12 decimals', async () => {
  const props = await api.rpc.system.properties();
  assert.deepEqual(props.tokenSymbol.unwrap().map(String), ['LPX']);
  assert.deepEqual(props.tokenDecimals.unwrap().map((d) => d.toNumber()), [12]);
  assert.equal(props.ss58Format.unwrap().toNumber(), 42);
  assert.deepEqual(api.registry.chainTokens, ['LPX']);
  assert.deepEqual(api.registry.chainDecimals, [12]);
  assert.equal((await api.rpc.system.chain()).toString(), 'LoopX Development');
  assert.equal(api.runtimeVersion.specName.toString(), 'loopx');
});

test('a transfer from Alice to Bob lands with its events', { timeout: 60_000 }, async () => {
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const amount = 12_345n * 10n ** 12n; // 12,345 LPX
  const [aliceBefore, bobBefore] = [await free(alice.address), await free(bob.address)];

  const { blockHash, events, dispatchError } = await submitAndWatch(
    api.tx.balances.transferKeepAlive(bob.address, amount), alice);
  assert.equal(dispatchError, undefined);

  const names = events.map(({ event }) => `${event.section}.${event.method}`);
  assert.ok(names.includes('balances.Transfer'), names.join(', '));
  assert.ok(names.includes('transactionPayment.TransactionFeePaid'), names.join(', '));
  assert.ok(names.includes('system.ExtrinsicSuccess'), names.join(', '));

  const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event)).event;
  assert.equal(transfer.data.from.toString(), alice.address);
  assert.equal(transfer.data.to.toString(), bob.address);
  assert.equal(transfer.data.amount.toBigInt(), amount);
  const fee = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event))
    .event.data.actualFee.toBigInt();
  assert.ok(fee > 0n);

  // Balances right after that block (Alice may not send anything else meanwhile).
  const at = await api.at(blockHash);
  const aliceAfter = (await at.query.system.account(alice.address)).data.free.toBigInt();
  const bobAfter = (await at.query.system.account(bob.address)).data.free.toBigInt();
  assert.equal(bobAfter - bobBefore, amount);
  assert.equal(aliceBefore - aliceAfter, amount + fee);
});

test('a transfer larger than the balance fails with a named error and moves no funds', { timeout: 60_000 }, async () => {
  const dave = keyring.addFromUri('//Dave');
  const eve = keyring.addFromUri('//Eve');
  const [daveBefore, eveBefore] = [await free(dave.address), await free(eve.address)];
  const tooMuch = daveBefore * 2n;

  const { blockHash, events, dispatchError } = await submitAndWatch(
    api.tx.balances.transferKeepAlive(eve.address, tooMuch), dave);

  assert.ok(dispatchError, 'the transfer must fail');
  // The runtime's own error, decoded by name from the metadata.
  const name = dispatchError.isModule
    ? (() => { const m = api.registry.findMetaError(dispatchError.asModule); return `${m.section}.${m.name}`; })()
    : `${dispatchError.type}.${dispatchError.isToken ? dispatchError.asToken.type : ''}`;
  assert.ok(['Token.FundsUnavailable', 'balances.InsufficientBalance'].includes(name), name);
  const names = events.map(({ event }) => `${event.section}.${event.method}`);
  assert.ok(names.includes('system.ExtrinsicFailed'), names.join(', '));
  assert.ok(!names.includes('balances.Transfer'), names.join(', '));

  // Nothing moved: Eve got nothing; Dave paid only the transaction fee, which a failed call
  // still pays (it was included and executed).
  const fee = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event))
    .event.data.actualFee.toBigInt();
  const at = await api.at(blockHash);
  assert.equal((await at.query.system.account(eve.address)).data.free.toBigInt(), eveBefore);
  assert.equal((await at.query.system.account(dave.address)).data.free.toBigInt(), daveBefore - fee);
});

test('an account that cannot pay the fee is refused by the pool and nothing changes', { timeout: 30_000 }, async () => {
  const pauper = keyring.addFromUri('//LoopxPauper');
  const bob = keyring.addFromUri('//Bob');
  const bobBefore = await free(bob.address);
  await assert.rejects(
    api.tx.balances.transferKeepAlive(bob.address, 1n).signAndSend(pauper),
    /Inability to pay some fees|1010/,
  );
  assert.equal(await free(pauper.address), 0n);
  assert.equal(await free(bob.address), bobBefore);
});
