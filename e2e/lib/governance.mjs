// Referenda as a polkadot.js client submits them (docs/protocol.md, "Governance").
import assert from 'node:assert/strict';
import { blake2AsHex } from '@polkadot/util-crypto';
import { sendChecked } from './node.mjs';

const LPX = 10n ** 12n;

/**
 * Notes `call`'s preimage and submits it as a referendum asking for `origin` (e.g.
 * `{ Origins: 'SlashCanceller' }`; `payer` pays the deposits), places the decision deposit, and
 * `payer` and `voter` vote aye with 980,000 LPX each at 1× conviction (on the dev and local
 * chains a third of the issuance: enough support for every track but root and treasurer from
 * the start). Returns the referendum's index.
 */
export async function referendum(api, call, origin, [payer, voter]) {
  const hex = call.method.toHex();
  await sendChecked(api, api.tx.preimage.notePreimage(hex), payer);
  const proposal = { Lookup: { hash: blake2AsHex(hex, 256), len: (hex.length - 2) / 2 } };
  const { events } = await sendChecked(api, api.tx.referenda.submit(origin, proposal, { After: 0 }), payer);
  const submitted = events.find(({ event }) => api.events.referenda.Submitted.is(event));
  assert.ok(submitted, 'referenda.Submitted');
  const index = submitted.event.data.index.toNumber();
  await sendChecked(api, api.tx.referenda.placeDecisionDeposit(index), payer);
  for (const who of [payer, voter]) {
    const vote = { Standard: { vote: { aye: true, conviction: 'Locked1x' }, balance: 980_000n * LPX } };
    await sendChecked(api, api.tx.convictionVoting.vote(index, vote), who);
  }
  return index;
}
