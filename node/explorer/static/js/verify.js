// What a browser can check of a provenance answer without a signature library, using
// WebCrypto SHA-256 only: each event's tx id against its content, its RFC 6962
// inclusion proof against the block's tx_root, its recorded result against
// results_root, the header against the block hash, and that the commit certificate
// names validators holding more than 2/3 of the genesis voting power. Ed25519
// signatures (of events and precommits) are left to `orechain verify`.

import { encode, UnsafeInteger } from './canonical.js';

export const OK = 'ok';
export const FAILED = 'failed';
export const UNCHECKED = 'unchecked';

export function canVerify() {
  // WebCrypto exists only in a secure context (HTTPS, or http on 127.0.0.1/localhost).
  return Boolean(globalThis.isSecureContext && globalThis.crypto && crypto.subtle);
}

export function fromHex(hex) {
  if (typeof hex !== 'string' || hex.length % 2 || /[^0-9a-f]/i.test(hex)) {
    throw new TypeError('not a hex string');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

// RFC 9162 section 2.1.3.2: the root that `proof` implies for `leaf` at `index` in a
// tree of `size` leaves, or null when the proof cannot be one for that position.
export async function rootFromInclusionProof(leaf, index, size, proof) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size)) || index < 0
      || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = await leafHash(leaf);
  for (const p of proof) {
    if (sn === 0 || p.length !== 32) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export async function verifyInclusion(leaf, index, size, proof, root) {
  try {
    const computed = await rootFromInclusionProof(leaf, index, size, proof.map(fromHex));
    return computed !== null && toHex(computed) === toHex(root);
  } catch {
    return false;  // a malformed proof proves nothing
  }
}

export function txBytes(tx) {
  return encode([tx.chain_id, tx.kind, tx.body, fromHex(tx.signer), tx.nonce,
    fromHex(tx.signature)]);
}

export function headerBytes(h) {
  return encode([h.chain_id, h.height, h.time_ms, fromHex(h.parent_hash), fromHex(h.tx_root),
    h.tx_count, fromHex(h.results_root), fromHex(h.validators_hash), fromHex(h.proposer)]);
}

// Power of the distinct genesis validators a commit names for this block; the browser
// does not check their signatures, so this is what the certificate claims.
export function commitPower(commit, height, blockHash, validators) {
  const total = validators.reduce((n, v) => n + v.power, 0);
  if (!commit || commit.height !== height || commit.block_hash !== blockHash) {
    return { power: 0, total, quorum: false };
  }
  const byKey = new Map(validators.map((v) => [v.node_key, v.power]));
  const signers = new Set(commit.signatures.map((s) => s.validator).filter((k) => byKey.has(k)));
  const power = [...signers].reduce((n, k) => n + byKey.get(k), 0);
  return { power, total, quorum: 3 * power > 2 * total };
}

async function check(fn) {
  try {
    return (await fn()) ? OK : FAILED;
  } catch (err) {
    if (err instanceof UnsafeInteger) return UNCHECKED;
    return FAILED;
  }
}

// Every check of one block, once per block however many events it holds.
export async function verifyBlock(height, block, validators) {
  const header = await check(async () => block.header.height === height
    && toHex(await sha256(headerBytes(block.header))) === block.hash);
  return { header, quorum: commitPower(block.commit, height, block.hash, validators) };
}

export async function verifyEvent(event, blockChecks, block) {
  const checks = {
    txId: await check(async () => toHex(await sha256(txBytes(event.tx))) === event.tx_id),
    included: await check(() => verifyInclusion(fromHex(event.tx_id), event.index,
      block.header.tx_count, event.proof, fromHex(block.header.tx_root))),
    result: await check(() => verifyInclusion(
      encode([fromHex(event.tx_id), event.result.accepted, event.result.reason]),
      event.index, block.header.tx_count, event.result_proof,
      fromHex(block.header.results_root))),
    header: blockChecks.header,
    quorum: blockChecks.quorum.quorum ? OK : FAILED,
  };
  const values = Object.values(checks);
  let status = 'verified';
  if (values.includes(FAILED)) status = 'failed';
  else if (values.includes(UNCHECKED)) status = 'partly verified';
  else if (!event.result.accepted) status = 'rejected';
  return { status, checks, quorum: blockChecks.quorum };
}

// Checks every event of a provenance answer; returns Map(tx_id -> verdict).
export async function verifyAnswer(answer, validators) {
  const blocks = new Map();
  await Promise.all(Object.entries(answer.blocks).map(async ([h, block]) => {
    blocks.set(Number(h), await verifyBlock(Number(h), block, validators));
  }));
  const verdicts = new Map();
  for (const event of answer.events) {
    const block = answer.blocks[String(event.height)];
    verdicts.set(event.tx_id, block
      ? await verifyEvent(event, blocks.get(event.height), block)
      : { status: 'failed', checks: { block: FAILED }, quorum: null });
  }
  return verdicts;
}
