import fs from 'node:fs';
const dir = process.argv[2];
const f = fs.readdirSync(dir).map(x => dir + '/' + x).sort().pop();
const p = JSON.parse(fs.readFileSync(f));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const dt = new Map(); for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// only samples under plan.run
const under = (id) => { let c = id; while (c !== undefined) { const cf = byId.get(c).callFrame; if (cf.functionName === 'runScoped') return true; c = parent.get(c); } return false; };
const layer = new Map(); let total = 0;
for (const [id, t] of dt) { const n = byId.get(id); const cf = n.callFrame; const u = cf.url;
  const L = cf.functionName === '(garbage collector)' ? 'gc' : u.includes('tfjs-core') ? 'tfjs-core' : u.includes('tfjs-backend-wasm') ? 'tfjs-wasm-js' : u.startsWith('wasm') ? 'wasm' : u.includes('/runtime/') ? 'runtime/' + u.split('/runtime/')[1] : (cf.functionName || '(other)') + ' ' + u.split('/').pop();
  if (L !== 'gc' && !under(id)) continue;
  layer.set(L, (layer.get(L) ?? 0) + t); total += t; }
for (const [k, t] of [...layer].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((t / total * 100).toFixed(1).padStart(5) + '%', k);
