// A lot's custody timeline: who held it, from when, as its own accepted events tell
// it. Events that change nothing about custody (assays, attestations, flags) are left
// to the graph.

import { el, mass, time } from './format.js';

// One custody step of an event, or null when the event does not move custody.
// `org` is the organisation that signed the event.
export function custodyStep(lotId, tx, org) {
  const b = tx.body;
  switch (tx.kind) {
    case 'register_lot':
      return { holder: org, state: 'held', text: `extracted at ${b.site_id}`, mass: b.mass_g };
    case 'dispatch':
      return { holder: b.carrier_org || org, state: 'in transit',
        text: `dispatched by ${org} to ${b.to_org}`, mass: b.mass_g };
    case 'receive':
      return { holder: org, state: 'held', text: `received at ${b.site_id}`, mass: b.mass_g };
    case 'transform': {
      const out = b.outputs.find((o) => o.lot_id === lotId);
      return out
        ? { holder: org, state: 'held', text: `produced at ${b.site_id} from ${b.inputs.join(', ')}`,
          mass: out.mass_g }
        : { holder: org, state: 'consumed',
          text: `refined into ${b.outputs.map((o) => o.lot_id).join(', ')}` };
    }
    case 'split': {
      const child = b.children.find((c) => c.lot_id === lotId);
      return child
        ? { holder: org, state: 'held', text: `split from ${b.lot_id}`, mass: child.mass_g }
        : { holder: org, state: 'consumed',
          text: `split into ${b.children.map((c) => c.lot_id).join(', ')}` };
    }
    case 'merge':
      return b.new_lot_id === lotId
        ? { holder: org, state: 'held', text: `merged from ${b.lot_ids.join(', ')}` }
        : { holder: org, state: 'consumed', text: `merged into ${b.new_lot_id}` };
    case 'export':
      return { holder: b.buyer, state: 'exported',
        text: `exported to ${b.destination} (permit ${b.permit_ref})` };
    case 'hold':
      return { holder: null, state: 'held by authority', text: `hold by ${org}: ${b.reason}` };
    case 'release':
      return { holder: null, state: 'released', text: `released by ${org}: ${b.reason}` };
    default:
      return null;
  }
}

export function renderTimeline(list, lotId, events, { orgOf, timeOf, nameOf }) {
  const items = [];
  for (const event of events) {
    if (!event.result.accepted) continue;
    const step = custodyStep(lotId, event.tx, orgOf(event.tx.signer));
    if (!step) continue;
    const when = timeOf(event.height);
    items.push(el('li', { class: `step ${step.state.replaceAll(' ', '-')}`,
      'data-kind': event.tx.kind, 'data-holder': step.holder ?? '' },
      el('time', {}, when === undefined ? `block ${event.height}` : `${time(when)} UTC`),
      el('strong', {}, step.holder ? nameOf(step.holder) : step.state),
      el('span', { class: 'state' }, step.state),
      el('span', {}, step.text),
      step.mass === undefined ? null : el('span', { class: 'mass' }, mass(step.mass))));
  }
  if (!items.length) items.push(el('li', { class: 'empty' }, 'no custody events on chain'));
  list.replaceChildren(...items);
}
