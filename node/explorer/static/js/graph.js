// The provenance graph as an SVG picture: lots are boxes laid out left to right by
// generation; events that turn lots into other lots (transform, split, merge) are
// labelled arrows; every other event is a labelled row inside its lot's box. Each
// event carries the mark of its verification in this browser.

import { mass } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 270;
const GAP_X = 170;
const GAP_Y = 34;
const HEAD_H = 58;
const ROW_H = 21;
const MARGIN = 24;

export const MARKS = { verified: '✓', rejected: '⊘', 'partly verified': '◐', failed: '✗' };

// [inputs, outputs] of an event that links lots; null for an event on one lot.
export function linkOf(tx) {
  const b = tx.body;
  if (tx.kind === 'transform') return [b.inputs, b.outputs.map((o) => o.lot_id)];
  if (tx.kind === 'split') return [[b.lot_id], b.children.map((c) => c.lot_id)];
  if (tx.kind === 'merge') return [b.lot_ids, [b.new_lot_id]];
  return null;
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

// Generation of each lot: 0 for lots nothing in the answer produced, else one more
// than the deepest lot it came from. The graph has no cycles: a lot is consumed once.
function generations(lotIds, links) {
  const gen = new Map(lotIds.map((id) => [id, 0]));
  for (let changed = true, guard = 0; changed && guard <= lotIds.length; guard++) {
    changed = false;
    for (const [inputs, outputs] of links) {
      const depth = 1 + Math.max(...inputs.map((id) => gen.get(id) ?? -1));
      for (const id of outputs) {
        if (gen.has(id) && gen.get(id) < depth) { gen.set(id, depth); changed = true; }
      }
    }
  }
  return gen;
}

export function buildModel(answer, verdicts) {
  const lotIds = Object.keys(answer.lots);
  const rows = new Map(lotIds.map((id) => [id, []]));
  const edges = [];
  for (const event of answer.events) {
    const verdict = verdicts.get(event.tx_id);
    const link = linkOf(event.tx);
    if (link) {
      for (const from of link[0]) {
        for (const to of link[1]) {
          if (rows.has(from) && rows.has(to)) edges.push({ from, to, event, verdict });
        }
      }
    } else if (rows.has(event.tx.body.lot_id)) {
      rows.get(event.tx.body.lot_id).push({ event, verdict });
    }
  }
  const gen = generations(lotIds, answer.events.map((e) => linkOf(e.tx)).filter(Boolean));
  return { lotIds, rows, edges, gen };
}

function layout(model) {
  const columns = new Map();
  for (const id of model.lotIds) {
    const g = model.gen.get(id);
    if (!columns.has(g)) columns.set(g, []);
    columns.get(g).push(id);
  }
  const boxes = new Map();
  let height = 0;
  for (const [g, ids] of columns) {
    let y = MARGIN;
    for (const id of ids) {
      const h = HEAD_H + ROW_H * model.rows.get(id).length + 8;
      boxes.set(id, { x: MARGIN + g * (BOX_W + GAP_X), y, w: BOX_W, h });
      y += h + GAP_Y;
    }
    height = Math.max(height, y - GAP_Y + MARGIN);
  }
  const width = MARGIN * 2 + (Math.max(...columns.keys()) + 1) * (BOX_W + GAP_X) - GAP_X;
  return { boxes, width, height };
}

function eventRow(box, i, { event, verdict }, onEvent) {
  const status = verdict?.status ?? 'failed';
  const y = box.y + HEAD_H + i * ROW_H;
  const row = svg('g', { class: `event ${status.replace(' ', '-')}`, 'data-tx': event.tx_id,
    'data-kind': event.tx.kind, 'data-status': status, tabindex: '0', role: 'button' });
  row.append(
    svg('rect', { x: box.x + 8, y, width: box.w - 16, height: ROW_H - 3, rx: 4 }),
    svg('text', { x: box.x + 16, y: y + 13, class: 'mark' }, MARKS[status]),
    svg('text', { x: box.x + 34, y: y + 13 }, `${event.tx.kind.replace('_', ' ')}`),
    svg('text', { x: box.x + box.w - 16, y: y + 13, class: 'where' },
      `block ${event.height} · ${status}`),
  );
  row.addEventListener('click', () => onEvent(event, verdict));
  return row;
}

function lotBox(id, lot, box, rows, focus, onLot, onEvent) {
  const group = svg('g', { class: `lot ${lot.status}${id === focus ? ' focus' : ''}`,
    'data-lot': id });
  const head = svg('g', { class: 'lot-head', tabindex: '0', role: 'link' });
  head.append(
    svg('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: 8 }),
    svg('text', { x: box.x + 12, y: box.y + 20, class: 'lot-id' }, id),
    svg('text', { x: box.x + 12, y: box.y + 38, class: 'lot-meta' },
      `${lot.mineral.replace('_', ' ')} ${lot.form} · ${mass(lot.mass_g)}`),
    svg('text', { x: box.x + 12, y: box.y + 52, class: 'lot-meta' },
      `${lot.status} · held by ${lot.holder}`),
  );
  head.addEventListener('click', () => onLot(id));
  group.append(head, ...rows.map((r, i) => eventRow(box, i, r, onEvent)));
  return group;
}

function edge(a, b, { event, verdict }, onEvent) {
  const status = verdict?.status ?? 'failed';
  const x1 = a.x + a.w;
  const y1 = a.y + HEAD_H / 2;
  const x2 = b.x;
  const y2 = b.y + HEAD_H / 2;
  const mid = (x1 + x2) / 2;
  const group = svg('g', { class: `edge ${status.replace(' ', '-')}`, 'data-tx': event.tx_id,
    'data-kind': event.tx.kind, 'data-status': status, tabindex: '0', role: 'button' });
  group.append(
    svg('path', { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 6},${y2}`,
      'marker-end': 'url(#arrow)' }),
    svg('text', { x: mid, y: (y1 + y2) / 2 - 8, 'text-anchor': 'middle', class: 'edge-label' },
      `${MARKS[status]} ${event.tx.kind}`),
    svg('text', { x: mid, y: (y1 + y2) / 2 + 8, 'text-anchor': 'middle', class: 'where' },
      `block ${event.height} · ${status}`),
  );
  group.addEventListener('click', () => onEvent(event, verdict));
  return group;
}

export function renderGraph(container, answer, verdicts, { onLot, onEvent }) {
  const model = buildModel(answer, verdicts);
  const { boxes, width, height } = layout(model);
  const picture = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height,
    role: 'img', 'aria-label': `provenance graph of ${answer.lot_id}` });
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '4', refY: '5',
    markerWidth: '7', markerHeight: '7', orient: 'auto' });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }));
  defs.append(marker);
  picture.append(defs);
  for (const e of model.edges) picture.append(edge(boxes.get(e.from), boxes.get(e.to), e, onEvent));
  for (const id of model.lotIds) {
    picture.append(lotBox(id, answer.lots[id], boxes.get(id), model.rows.get(id), answer.lot_id,
      onLot, onEvent));
  }
  container.replaceChildren(picture);
}
