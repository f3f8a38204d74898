// How the page writes quantities, times and parties: grams, ppm and ms are integers on
// chain; people read tonnes, percent and dates.

export function mass(grams) {
  if (grams >= 1e6) return `${(grams / 1e6).toLocaleString('en', { maximumFractionDigits: 3 })} t`;
  if (grams >= 1e3) return `${(grams / 1e3).toLocaleString('en', { maximumFractionDigits: 3 })} kg`;
  return `${grams} g`;
}

export function percent(ppm) {
  return `${(ppm / 1e4).toLocaleString('en', { maximumFractionDigits: 4 })} %`;
}

export function time(ms) {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}`;
}

export function shortHash(hex) {
  return `${hex.slice(0, 10)}…${hex.slice(-6)}`;
}

export function composition(comp) {
  return Object.entries(comp || {}).map(([el, ppm]) => `${el} ${percent(ppm)}`).join(', ');
}

// Creates an element with attributes and children (strings become text, never HTML).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}
