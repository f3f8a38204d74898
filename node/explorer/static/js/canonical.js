// orechain's canonical msgpack (docs/protocol.md), enough to re-hash what the node
// serves: arrays in fixed field order, maps with keys sorted bytewise by UTF-8, the
// smallest encoding of every int, bytes as bin, text as str. Floats are refused.

export class UnsafeInteger extends Error {}

const utf8 = new TextEncoder();

function pushUint(out, value, width) {
  for (let shift = BigInt(8 * (width - 1)); shift >= 0n; shift -= 8n) {
    out.push(Number((value >> shift) & 0xffn));
  }
}

function putInt(out, value) {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    // JSON.parse already rounded it: the original bytes cannot be rebuilt here.
    throw new UnsafeInteger(`integer ${value} is beyond what JavaScript holds exactly`);
  }
  const n = BigInt(value);
  if (n >= 0n) {
    if (n < 128n) out.push(Number(n));
    else if (n <= 0xffn) { out.push(0xcc); pushUint(out, n, 1); }
    else if (n <= 0xffffn) { out.push(0xcd); pushUint(out, n, 2); }
    else if (n <= 0xffffffffn) { out.push(0xce); pushUint(out, n, 4); }
    else { out.push(0xcf); pushUint(out, n, 8); }
  } else if (n >= -32n) out.push(Number(n & 0xffn));
  else if (n >= -128n) { out.push(0xd0); pushUint(out, n & 0xffn, 1); }
  else if (n >= -32768n) { out.push(0xd1); pushUint(out, n & 0xffffn, 2); }
  else if (n >= -(2n ** 31n)) { out.push(0xd2); pushUint(out, n & 0xffffffffn, 4); }
  else { out.push(0xd3); pushUint(out, BigInt.asUintN(64, n), 8); }
}

function putLength(out, length, small, smallLimit, codes) {
  if (small !== null && length < smallLimit) out.push(small | length);
  else if (codes[0] !== null && length <= 0xff) { out.push(codes[0]); pushUint(out, BigInt(length), 1); }
  else if (length <= 0xffff) { out.push(codes[1]); pushUint(out, BigInt(length), 2); }
  else { out.push(codes[2]); pushUint(out, BigInt(length), 4); }
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function put(out, value) {
  if (value === null) out.push(0xc0);
  else if (value === false) out.push(0xc2);
  else if (value === true) out.push(0xc3);
  else if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isInteger(value)) {
      throw new TypeError('floats are not allowed in canonical data');
    }
    putInt(out, value);
  } else if (typeof value === 'string') {
    const bytes = utf8.encode(value);
    putLength(out, bytes.length, 0xa0, 32, [0xd9, 0xda, 0xdb]);
    out.push(...bytes);
  } else if (value instanceof Uint8Array) {
    putLength(out, value.length, null, 0, [0xc4, 0xc5, 0xc6]);
    out.push(...value);
  } else if (Array.isArray(value)) {
    putLength(out, value.length, 0x90, 16, [null, 0xdc, 0xdd]);
    value.forEach((item) => put(out, item));
  } else if (typeof value === 'object') {
    const keys = Object.keys(value).map((k) => [utf8.encode(k), k]);
    keys.sort((a, b) => compareBytes(a[0], b[0]));
    putLength(out, keys.length, 0x80, 16, [null, 0xde, 0xdf]);
    keys.forEach(([, k]) => { put(out, k); put(out, value[k]); });
  } else {
    throw new TypeError(`cannot encode a ${typeof value} canonically`);
  }
}

export function encode(value) {
  const out = [];
  put(out, value);
  return Uint8Array.from(out);
}
