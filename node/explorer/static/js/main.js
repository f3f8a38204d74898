// The explorer page: chain head and recent blocks, refreshed; a lot searched by id,
// with its provenance graph checked in this browser and its custody timeline.

import { batch, call } from './rpc.js';
import { composition, el, mass, shortHash, time } from './format.js';
import { MARKS, renderGraph } from './graph.js';
import { renderTimeline } from './timeline.js';
import { canVerify, commitPower, verifyAnswer } from './verify.js';

const RECENT_BLOCKS = 12;
const REFRESH_MS = 4000;
const $ = (selector) => document.querySelector(selector);

const chain = { genesis: null, orgByKey: new Map(), orgName: new Map(), validatorName: new Map() };

async function loadGenesis() {
  chain.genesis = await call('chain_genesis');
  for (const org of chain.genesis.orgs) {
    chain.orgName.set(org.id, org.name);
    for (const key of org.keys) chain.orgByKey.set(key, org.id);
  }
  for (const v of chain.genesis.validators) chain.validatorName.set(v.node_key, v.name);
}

const orgOf = (key) => chain.orgByKey.get(key) ?? `key ${key.slice(0, 12)}…`;
const nameOf = (orgId) => chain.orgName.get(orgId) ?? orgId;

function message(text) {
  $('#message').textContent = text;
  $('#message').hidden = !text;
}

// --- head and recent blocks ---------------------------------------------------------------

let shownHead = -1;

async function refreshHead() {
  const head = await call('chain_head');
  $('#head').replaceChildren(
    el('span', {}, `chain ${chain.genesis.chain_id}`),
    el('span', { id: 'head-height' }, `height ${head.height}`),
    el('span', { title: head.hash }, shortHash(head.hash)),
    el('span', {}, head.height ? `${time(head.time_ms)} UTC` : 'no blocks yet'));
  if (head.height !== shownHead) {
    shownHead = head.height;
    await showBlocks(head.height);
  }
}

async function showBlocks(height) {
  const heights = [];
  for (let h = height; h >= 1 && heights.length < RECENT_BLOCKS; h--) heights.push(h);
  const blocks = await batch(heights.map((h) => ['block_get', { height: h }]));
  const rows = blocks.filter((b) => !(b instanceof Error)).map((b) => {
    const q = commitPower(b.commit, b.height, b.hash, chain.genesis.validators);
    return el('tr', { 'data-height': b.height },
      el('td', {}, String(b.height)),
      el('td', {}, time(b.header.time_ms)),
      el('td', {}, String(b.header.tx_count)),
      el('td', { class: 'hash', title: b.hash }, shortHash(b.hash)),
      el('td', {}, chain.validatorName.get(b.header.proposer) ?? shortHash(b.header.proposer)),
      el('td', { class: q.quorum ? 'ok' : 'bad',
        title: 'power of the validators the certificate names; signatures not checked here' },
      `${q.quorum ? '✓' : '✗'} ${q.power}/${q.total}`));
  });
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6 }, 'no blocks yet')));
  $('#blocks tbody').replaceChildren(...rows);
}

// --- one lot --------------------------------------------------------------------------------

function summary(lot) {
  const entries = [
    ['mineral', `${lot.mineral.replace('_', ' ')} (${lot.form})`],
    ['mass', mass(lot.mass_g)],
    ['status', lot.status],
    ['holder', `${nameOf(lot.holder)} (${lot.holder})`],
    ['site', lot.site_id],
    ['composition', composition(lot.composition) || 'not assayed'],
  ];
  if (lot.origin) entries.push(['extracted', `${time(lot.origin.extracted_at_ms)} UTC at ${lot.origin.site_id}`]);
  if (lot.parents.length) entries.push(['made from', lot.parents.join(', ')]);
  if (lot.flags.length) entries.push(['flags', String(lot.flags.length)]);
  if (lot.hold) entries.push(['hold', JSON.stringify(lot.hold)]);
  return entries.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]);
}

const CHECK_NAMES = {
  txId: 'tx id recomputed from the event (SHA-256 of its canonical bytes)',
  included: 'RFC 6962 inclusion proof matches the block’s tx_root',
  result: 'recorded result proven under the block’s results_root',
  header: 'block header hashes to the block hash',
  quorum: 'commit certificate names > 2/3 of the genesis validator power',
  block: 'block header and commit present in the answer',
};

function showEvent(event, verdict) {
  const checks = Object.entries(verdict?.checks ?? {}).map(([name, result]) => el('li',
    { class: result }, `${result === 'ok' ? '✓' : result === 'failed' ? '✗' : '–'} ${CHECK_NAMES[name]}`
    + (name === 'quorum' && verdict.quorum ? ` (${verdict.quorum.power}/${verdict.quorum.total})` : '')));
  const detail = $('#event-detail');
  detail.replaceChildren(...[
    el('h4', {}, `${MARKS[verdict?.status ?? 'failed']} ${event.tx.kind} · block ${event.height}, index ${event.index} · ${verdict?.status}`),
    el('p', {}, `signed by ${nameOf(orgOf(event.tx.signer))} · tx ${event.tx_id}`),
    event.result.accepted ? null : el('p', { class: 'bad' }, `rejected: ${event.result.reason}`),
    el('ul', { class: 'checks' }, ...checks),
    el('pre', {}, JSON.stringify(event.tx.body, null, 2)),
  ].filter(Boolean));
  detail.hidden = false;
}

async function showLot(lotId) {
  message(`tracing ${lotId}…`);
  $('#event-detail').hidden = true;
  let answer;
  let history;
  try {
    [answer, history] = await Promise.all([
      call('lot_provenance', { lot_id: lotId, direction: 'both' }),
      call('lot_history', { lot_id: lotId })]);
  } catch (err) {
    $('#lot').hidden = true;
    message(err.message);
    return;
  }
  $('#lot-title').textContent = `Lot ${lotId}`;
  $('#lot-summary').replaceChildren(...summary(answer.lots[lotId]));
  const browserChecks = canVerify();
  const verdicts = browserChecks
    ? await verifyAnswer(answer, chain.genesis.validators)
    : new Map(answer.events.map((e) => [e.tx_id, { status: 'failed', checks: {} }]));
  const counts = {};
  for (const v of verdicts.values()) counts[v.status] = (counts[v.status] ?? 0) + 1;
  $('#verify-note').replaceChildren(browserChecks
    ? `${answer.events.length} events, ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}. `
      + 'Inclusion proof checked in your browser (WebCrypto SHA-256): tx ids, RFC 6962 proofs '
      + 'against each block’s tx_root and results_root, header hashes, and commit power '
      + 'against the genesis validators. Signatures: run '
    : 'This page is not in a secure context, so the browser cannot hash: nothing was checked. '
      + 'Open it at http://127.0.0.1 or over HTTPS, or run ',
  el('code', {}, 'orechain verify'), browserChecks ? '.' : ' on the answer.');
  renderGraph($('#graph'), answer, verdicts, {
    onLot: (id) => { location.hash = `lot=${encodeURIComponent(id)}`; },
    onEvent: showEvent,
  });
  const times = new Map(Object.entries(answer.blocks).map(([h, b]) => [Number(h), b.header.time_ms]));
  renderTimeline($('#timeline'), lotId, history.events,
    { orgOf, nameOf, timeOf: (h) => times.get(h) });
  $('#lot').hidden = false;
  $('#graph').dataset.lot = lotId;  // the lot now drawn (tests wait on it)
  message('');
}

function lotFromHash() {
  const match = /^#lot=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function route() {
  const lotId = lotFromHash();
  if (lotId) {
    $('#lot-id').value = lotId;
    await showLot(lotId);
  }
}

async function start() {
  $('#search').addEventListener('submit', (e) => {
    e.preventDefault();
    const lotId = $('#lot-id').value.trim();
    if (location.hash === `#lot=${encodeURIComponent(lotId)}`) route();
    else location.hash = `lot=${encodeURIComponent(lotId)}`;
  });
  window.addEventListener('hashchange', route);
  try {
    await loadGenesis();
    await refreshHead();
  } catch (err) {
    $('#head').textContent = `cannot reach this node's RPC: ${err.message}`;
    return;
  }
  setInterval(() => refreshHead().catch((err) => { $('#head').textContent = err.message; }),
    REFRESH_MS);
  await route();
}

start();
