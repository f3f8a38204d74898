// JSON-RPC 2.0 client for the node that served this page (same origin, POST /rpc).

export class RpcError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.code;
  }
}

let nextId = 1;

async function post(body) {
  const reply = await fetch('/rpc', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!reply.ok) throw new Error(`the node answered HTTP ${reply.status}`);
  return reply.json();
}

function unwrap(answer) {
  if (answer.error) throw new RpcError(answer.error);
  return answer.result;
}

export async function call(method, params = {}) {
  return unwrap(await post({ jsonrpc: '2.0', id: nextId++, method, params }));
}

// Many calls in one request; results come back in the order of `calls`.
// A failed call yields its RpcError in place of a result, so one missing block
// does not hide the others.
export async function batch(calls) {
  if (!calls.length) return [];
  const first = nextId;
  nextId += calls.length;
  const answers = await post(calls.map(([method, params], i) => (
    { jsonrpc: '2.0', id: first + i, method, params })));
  const byId = new Map(answers.map((a) => [a.id, a]));
  return calls.map((_, i) => {
    const answer = byId.get(first + i);
    return answer.error ? new RpcError(answer.error) : answer.result;
  });
}
