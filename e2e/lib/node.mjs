// Helpers for the end-to-end tests: start and stop loopx-node processes, connect polkadot.js
// (metadata only, no hand-written types), wait for chain conditions.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { stringToU8a, u8aConcat } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET_DIR = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'loopx', 'target');
export const NODE_BIN = process.env.LOOPX_NODE || join(TARGET_DIR, 'release', 'loopx-node');
/** The misbehaving-peer test client (e2e/flood), built beside the node. */
export const FLOOD_BIN = join(dirname(NODE_BIN), 'loopx-flood');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Added to every port a test uses (RPC, p2p, Prometheus; also by scripts/local-net.sh), so that
 * the e2e runner can run test files at the same time: it gives each running file its own offset.
 */
export const PORT_OFFSET = Number(process.env.LOOPX_PORT_OFFSET ?? 0);
/** A base port moved by this file's offset. */
export const port = (base) => base + PORT_OFFSET;

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(what, check, { timeoutMs = 60_000, everyMs = 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
}

/** Whether the node answers a plain HTTP JSON-RPC call on `rpcPort` of `host`. */
async function rpcAnswers(rpcPort, host = '127.0.0.1') {
  try {
    const r = await fetch(`http://${host}:${rpcPort}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'system_health', params: [] }),
    });
    return r.ok;
  } catch {
    return false;
  }
}

/** One JSON-RPC call over HTTP (for methods polkadot.js does not know); throws on an error. */
export async function rpcCall(rpcPort, method, params = []) {
  const r = await fetch(`http://127.0.0.1:${rpcPort}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 1, jsonrpc: '2.0', method, params }),
  });
  const body = await r.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** Connects polkadot.js to a node's RPC port (on `host`) once the node answers there. */
export async function connect(rpcPort, { timeoutMs = 180_000, host = '127.0.0.1' } = {}) {
  // Wait with plain HTTP first: a WebSocket provider would log every failed attempt.
  await waitFor(`RPC on ${host}:${rpcPort}`, () => rpcAnswers(rpcPort, host), { timeoutMs });
  const provider = new WsProvider(`ws://${host}:${rpcPort}`, 500);
  await waitFor(`WebSocket on port ${rpcPort}`, () => provider.isConnected, { timeoutMs });
  return ApiPromise.create({ provider, noInitWarn: true });
}

/** Runs loopx-node to completion (for subcommands); returns { status, stdout, stderr }. */
export function runNode(args, { timeoutMs = 60_000 } = {}) {
  const r = spawnSync(NODE_BIN, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts a `--dev` node on the given ports with a throw-away base path. Its native workers are
 * off unless `workers` is true: most tests play Alice's validator duties themselves. `args`
 * replaces `--dev` (e.g. `--chain dev --bob --validator` for a second node of the dev chain);
 * `setup(base)` runs on the fresh base path before the first start (e.g. `key insert`).
 * `restart()` stops it and starts it again on the same database (and replaces `api`).
 */
export async function startDevNode({ rpcPort = port(9950), p2pPort = port(30350), promPort = port(9660), workers = false, args = ['--dev'], setup } = {}) {
  const base = mkdtempSync(join(tmpdir(), 'loopx-dev-'));
  setup?.(base);
  let log = '';
  const launch = async () => {
    const proc = spawn(
      NODE_BIN,
      [...args, '--base-path', base, '--rpc-port', `${rpcPort}`, '--port', `${p2pPort}`,
        '--prometheus-port', `${promPort}`, '--no-mdns', '--rpc-max-connections', '1000',
        ...(workers ? [] : ['--no-workers'])],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // The whole log (up to 8 MB): tests match lines written minutes before they look.
    proc.stderr.on('data', (d) => { log += d; if (log.length > 8_000_000) log = log.slice(-4_000_000); });
    const exited = new Promise((r) => proc.on('exit', r));
    try {
      return { proc, exited, api: await connect(rpcPort) };
    } catch (e) {
      proc.kill('SIGKILL');
      throw new Error(`dev node did not come up: ${e.message}\n--- node log ---\n${log.slice(-20_000)}`);
    }
  };
  const halt = async ({ proc, exited, api }) => {
    await api.disconnect().catch(() => {});
    proc.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };
  let running = await launch();
  const node = {
    api: running.api,
    log: () => log,
    async restart() {
      await halt(running);
      running = await launch();
      node.api = running.api;
      return node.api;
    },
    async stop() {
      await halt(running);
      // LOOPX_KEEP_NET=1 keeps the node's log (`<base>.log`) for a look afterwards.
      if (process.env.LOOPX_KEEP_NET === '1') writeFileSync(`${base}.log`, log);
      rmSync(base, { recursive: true, force: true });
    },
  };
  return node;
}

/**
 * Runs `scripts/local-net.sh <args>` against a private state directory, with the validators'
 * native workers off (these tests play the validators' duties themselves).
 */
export function localNet(netDir, ...args) {
  return localNetWithEnv({ LOOPX_NO_WORKERS: '1' }, netDir, ...args);
}

/** Runs `scripts/local-net.sh <args>` with `env` added (e.g. `LOOPX_FAULTY`), workers on. */
export function localNetWithEnv(env, netDir, ...args) {
  const r = spawnSync(join(REPO_ROOT, 'scripts', 'local-net.sh'), args, {
    encoding: 'utf8',
    env: { ...process.env, LOOPX_NET_DIR: netDir, LOOPX_NODE: NODE_BIN, ...env },
    // A start waits for the other files' networks to start first (scripts/local-net.sh).
    timeout: 900_000,
  });
  if (r.status !== 0) throw new Error(`local-net.sh ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/**
 * Copies the node logs of a local network (`<netDir>/*.log`, the last 4 MB of
 * each) into `$LOOPX_E2E_NODE_LOGS` when run.mjs set it (it keeps them only for files that
 * failed), then removes `netDir` unless LOOPX_KEEP_NET=1.
 */
export function disposeNet(netDir) {
  const keepIn = process.env.LOOPX_E2E_NODE_LOGS;
  if (keepIn && existsSync(netDir)) {
    mkdirSync(keepIn, { recursive: true });
    for (const f of readdirSync(netDir).filter((x) => x.endsWith('.log'))) {
      const text = readFileSync(join(netDir, f));
      writeFileSync(join(keepIn, f), text.subarray(Math.max(0, text.length - 4_000_000)));
    }
  }
  if (process.env.LOOPX_KEEP_NET === '1') console.log(`local network kept in ${netDir}`);
  else rmSync(netDir, { recursive: true, force: true });
}

/** The RPC ports of scripts/local-net.sh's nodes under this file's offset. */
export const LOCAL_RPC_PORTS = { alice: port(9944), bob: port(9945), charlie: port(9946), dave: port(9947), data: port(9948), ferdie: port(9949) };
/** The Prometheus ports of scripts/local-net.sh's nodes under this file's offset. */
export const LOCAL_PROM_PORTS = { alice: port(9615), bob: port(9616), charlie: port(9617), dave: port(9618), data: port(9619), ferdie: port(9620) };
/** The genesis validators of `--chain local`. */
export const LOCAL_VALIDATORS = ['alice', 'bob', 'charlie', 'dave'];

/** Number of the best and the finalized block. */
export async function heads(api) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  const finalizedHash = await api.rpc.chain.getFinalizedHead();
  const finalized = (await api.rpc.chain.getHeader(finalizedHash)).number.toNumber();
  return { best, finalized };
}

/**
 * Signs and submits `tx`, resolves when it is in a block with that block's hash and the
 * transaction's events; rejects if the pool refuses it.
 */
export function submitAndWatch(tx, signer) {
  return new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(signer, (result) => {
      if (result.status.isInBlock) {
        unsub?.();
        resolve({ blockHash: result.status.asInBlock, events: result.events, dispatchError: result.dispatchError });
      } else if (result.isError) {
        unsub?.();
        reject(new Error(`transaction failed: ${result.status.type}`));
      }
    }).then((u) => { unsub = u; }, reject);
  });
}

/**
 * Signs, submits and waits for `tx`; asserts it succeeded, or failed with the module error
 * `expectError` ("pallet.Error"). Returns its events, block hash and the fee it paid.
 */
export async function sendChecked(api, tx, signer, { expectError } = {}) {
  const { dispatchError, events, blockHash } = await submitAndWatch(tx, signer);
  if (expectError) {
    if (!dispatchError?.isModule) throw new Error(`expected ${expectError}, got ${dispatchError ?? 'success'}`);
    const { section, name } = api.registry.findMetaError(dispatchError.asModule);
    if (`${section}.${name}` !== expectError) throw new Error(`expected ${expectError}, got ${section}.${name}`);
  } else if (dispatchError) {
    const detail = dispatchError.isModule ? JSON.stringify(api.registry.findMetaError(dispatchError.asModule)) : dispatchError.toString();
    throw new Error(`transaction failed: ${detail}`);
  }
  const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
  return { events, blockHash, fee: paid ? paid.event.data.actualFee.toBigInt() : 0n };
}

/**
 * `sendChecked` for an account whose node's workers sign transactions too (a validator's stash
 * on a network with workers on): the pool refuses a transaction that takes the nonce a worker's
 * transaction took a moment before (1014 "Priority is too low", 1010 outdated), so it is signed
 * again with the next nonce, up to five times; so is one the pool dropped or replaced (`Dropped`,
 * `Usurped`: the worker's transaction of the same nonce won) or found invalid once in the pool
 * (`Invalid`: the worker's transaction of the same nonce was included first, so this one's nonce
 * is stale). `makeTx` builds the transaction afresh.
 */
export async function sendCheckedAs(api, makeTx, signer, opts) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendChecked(api, makeTx(), signer, opts);
    } catch (e) {
      const clash = /1014|Priority is too low|1010|outdated|stale|Dropped|Usurped|failed: Invalid/i.test(String(e?.message ?? e));
      if (!clash || attempt >= 5) throw e;
      await sleep(3_000);
    }
  }
}

/**
 * The event `match` picks among the events of the finalized chain from the block `blockHash`'s
 * height on, and the block that holds it: on a local network a block is often replaced by a
 * sibling of the same height (BABE secondary slots), and a transaction of the replaced block is
 * included again in another, where what it did can differ (a claim's committee is drawn with the
 * VRF output of the block it opens in). Waits for finality to reach the event. `back` blocks
 * below `blockHash`'s height are searched too (the transaction may land lower on the fork that
 * wins); `match` must then tell this transaction's event from earlier ones.
 */
export async function finalizedEvent(api, blockHash, match, { timeoutMs = 90_000, back = 0 } = {}) {
  const from = Math.max(1, (await api.rpc.chain.getHeader(blockHash)).number.toNumber() - back);
  let next = from;
  let found;
  await waitFor(`the event of block #${from} finalized`, async () => {
    const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    for (; next <= finalized && !found; next++) {
      const hash = await api.rpc.chain.getBlockHash(next);
      const record = (await (await api.at(hash)).query.system.events()).find(({ event }) => match(event));
      if (record) found = { blockHash: hash, data: record.event.data };
    }
    return found;
  }, { timeoutMs, everyMs: 1_000 });
  return found;
}

export function tmpDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The data market's commitment to a deal key (`pallet_data_market::deal_key_commitment`):
 * blake2-256 of "loopx/deal-key" ‖ deal (u64 little-endian) ‖ key. A seller gives it at delivery
 * and the key is revealed in a dispute.
 */
export function dealKeyCommitment(deal, key) {
  const le = new Uint8Array(8);
  new DataView(le.buffer).setBigUint64(0, BigInt(deal), true);
  return blake2AsU8a(u8aConcat(stringToU8a('loopx/deal-key'), le, key), 256);
}

/**
 * Calls `onBlock(header, records)` with the event records of every new best block. A head whose
 * state is gone by the time it is read (a retracted fork block, pruned once finality passed it,
 * or a node going down) is skipped with a line on stderr: an exception thrown from a
 * subscription callback would otherwise reject after the tests and fail the file.
 */
export function subscribeEvents(api, onBlock) {
  return api.rpc.chain.subscribeNewHeads(async (header) => {
    try {
      onBlock(header, await (await api.at(header.hash)).query.system.events());
    } catch (e) {
      console.error(`(events of block #${header.number} not read: ${e?.message ?? e})`);
    }
  });
}
