// Double signing is punished. A second node starts with Dave's validator keys (a failover done
// wrong): both nodes author in Dave's BABE slots, so two blocks of one slot carry his signature.
// The other validators notice as they import the second, prove Dave's key was in the session's
// set with a key-ownership proof against the historical session roots, and submit the report
// (an unsigned extrinsic the runtime checks). pallet-offences hands it to stake-reputation:
// Dave is slashed by the offence's fraction of his stake, loses reputation, is chilled (not
// elected again) and disabled for the rest of the session. The network keeps finalizing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADDR } from '../lib/cycle.mjs';
import { LOCAL_RPC_PORTS, connect, disposeNet, heads, localNet, tmpDir, waitFor } from '../lib/node.mjs';

const netDir = tmpDir('loopx-equivocation-');
let api;

before(async () => {
  localNet(netDir, 'start');
  api = await connect(LOCAL_RPC_PORTS.alice);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  try { localNet(netDir, 'stop', 'alice', 'bob', 'charlie', 'dave', 'dave-twin'); } finally { disposeNet(netDir); }
});

/** The records of the finalized blocks `from..=to` whose event `match`es. */
async function finalizedRecords(from, to, match) {
  const out = [];
  for (let n = from; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    for (const { event } of await (await api.at(hash)).query.system.events()) {
      if (match(event)) out.push({ n, hash, event });
    }
  }
  return out;
}

test('a validator whose keys sign on two machines is reported, slashed, chilled and disabled', { timeout: 420_000 }, async () => {
  await waitFor('finality past #3', async () => (await heads(api)).finalized >= 3, { timeoutMs: 120_000 });
  const start = (await heads(api)).finalized;
  const at = await api.at(await api.rpc.chain.getBlockHash(start));
  const bondBefore = (await at.query.stakeReputation.ledgers(ADDR.dave)).unwrap().active.toBigInt();
  const issuanceBefore = (await at.query.balances.totalIssuance()).toBigInt();
  assert.ok((await at.query.stakeReputation.candidates(ADDR.dave)).isSome, 'Dave is a candidate before');
  assert.deepEqual((await at.query.stakeReputation.offenceSlashes.entries()).length, 0, 'no offence yet');

  localNet(netDir, 'start', 'dave-twin');
  const t0 = Date.now();
  // The first offence punished, finalized.
  const reportedIn = await waitFor('Dave\'s equivocation punished in a finalized block', async () => {
    const { finalized } = await heads(api);
    const fin = await api.at(await api.rpc.chain.getBlockHash(finalized));
    return (await fin.query.stakeReputation.offenceSlashes.entries()).length > 0 && finalized;
  }, { timeoutMs: 240_000, everyMs: 2_000 });
  console.log(`equivocation reported and punished ${((Date.now() - t0) / 1000).toFixed(1)} s after the twin started`);
  localNet(netDir, 'stop', 'dave-twin');

  const records = await finalizedRecords(start + 1, reportedIn, (e) =>
    api.events.offences.Offence.is(e) || api.events.stakeReputation.OffenceReported.is(e) || api.events.stakeReputation.Slashed.is(e)
    || api.events.stakeReputation.Chilled.is(e) || api.events.session.ValidatorDisabled.is(e)
    || api.events.stakeReputation.ReputationChanged.is(e));
  const of = (ev) => records.filter(({ event }) => ev.is(event)).map(({ event }) => event);
  const offence = of(api.events.offences.Offence);
  assert.ok(offence.length >= 1, 'pallet-offences recorded the offence');
  console.log(`offence kind ${Buffer.from(offence[0].data.kind.toU8a()).toString()}`);

  const [reported] = of(api.events.stakeReputation.OffenceReported);
  assert.equal(reported.data.who.toString(), ADDR.dave);
  // BABE's fraction for one offender of four validators: (3 · 1/4)² = 56.25 %.
  assert.equal(reported.data.fraction.toNumber(), 562_500_000);
  const [slashed] = of(api.events.stakeReputation.Slashed);
  assert.equal(slashed.data.who.toString(), ADDR.dave);
  assert.equal(slashed.data.reason.toString(), 'Equivocation');
  const own = slashed.data.own.toBigInt();
  assert.equal(own, bondBefore * 562_500_000n / 1_000_000_000n, 'the fraction of Dave\'s bond');
  assert.ok(of(api.events.stakeReputation.Chilled).some((e) => e.data.who.toString() === ADDR.dave), 'Dave chilled');
  assert.ok(of(api.events.session.ValidatorDisabled).some((e) => e.data.validator.toString() === ADDR.dave), 'Dave disabled');
  const penalty = of(api.events.stakeReputation.ReputationChanged).find((e) => e.data.who.toString() === ADDR.dave && e.data.reason.toString() === 'Slashed');
  assert.ok(penalty, 'a reputation change of Dave for the slash');
  // ReputationChanged { who, old, new, reason } (`new` by position: it names no getter).
  const [old, now] = [penalty.data[1].toNumber(), penalty.data[2].toNumber()];
  assert.ok(now < old, `Dave lost reputation (${old} -> ${now})`);

  const fin = await api.at(await api.rpc.chain.getBlockHash(reportedIn));
  assert.equal((await fin.query.stakeReputation.ledgers(ADDR.dave)).unwrap().active.toBigInt(), bondBefore - own);
  assert.ok((await fin.query.stakeReputation.candidates(ADDR.dave)).isNone, 'no longer a candidate');
  // The slashed funds went to the treasury, not burned (eras may have minted meanwhile).
  assert.ok((await fin.query.balances.totalIssuance()).toBigInt() >= issuanceBefore, 'the slash burned nothing');

  // One equivocating validator cannot stop the other three: finality goes on.
  const after = (await heads(api)).finalized;
  await waitFor('finality 5 blocks further', async () => (await heads(api)).finalized >= after + 5, { timeoutMs: 120_000 });

  // Chilled: Dave is not elected again (the set of the session after next is planned without him).
  const session = (await api.query.session.currentIndex()).toNumber();
  await waitFor(`session ${session + 2}`, async () => (await api.query.session.currentIndex()).toNumber() >= session + 2,
    { timeoutMs: 200_000, everyMs: 2_000 });
  const validators = (await api.query.session.validators()).map(String);
  assert.ok(!validators.includes(ADDR.dave), `Dave not in ${validators}`);
  assert.equal(validators.length, 3);
});
