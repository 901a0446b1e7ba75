// Prints, for every block of a dev node (RPC port 9950) that holds data-market orders, its normal-class
// fullness, the orders, the deals they made, the run-length sequence of offers (O) and bids (B),
// and the books' lengths: run it after `BENCH_ONLY=dataMarket node bench/throughput.mjs` to see
// whether offers and bids still alternated in the blocks.
import { connect } from '../lib/node.mjs';
const api = await connect(9950);
const best = (await api.rpc.chain.getHeader()).number.toNumber();
for (let n = 1; n <= best; n++) {
  const hash = await api.rpc.chain.getBlockHash(n);
  const block = await api.rpc.chain.getBlock(hash);
  const xs = block.block.extrinsics.filter((x) => x.isSigned && x.method.section === 'dataMarket');
  if (!xs.length) continue;
  let seq = ''; for (const x of xs) seq += x.method.method === 'postOffer' ? 'O' : x.method.method === 'postBid' ? 'B' : 'k';
  // run-length
  const rl = seq.replace(/(.)\1*/g, (m, c) => c + m.length + ' ');
  const events = await (await api.at(hash)).query.system.events();
  const deals = events.filter(({ event }) => api.events.dataMarket.DealMatched.is(event)).length;
  const lenO = (await (await api.at(hash)).query.dataMarket.bookLen.entries()).map(([k, v]) => `${k.args.map(String).join('/')}=${v.toString()}`).join(' ');
  const w = (await (await api.at(hash)).query.system.blockWeight()).normal.refTime.toBigInt(); const lim = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();
  console.log(n, `full ${Number(w * 1000n / lim) / 10}%`, xs.length, 'deals', deals, rl.slice(0, 200), '|', lenO);
}
process.exit(0);
