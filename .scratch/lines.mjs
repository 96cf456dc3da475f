import fs from 'node:fs';
const dir = process.argv[2]; const fnName = process.argv[3]; const urlPart = process.argv[4] ?? '';
const f = fs.readdirSync(dir).map(x => dir + '/' + x).sort().pop();
const p = JSON.parse(fs.readFileSync(f));
const lines = new Map();
for (const n of p.nodes) if (n.callFrame.functionName === fnName && n.callFrame.url.includes(urlPart)) for (const t of n.positionTicks ?? []) lines.set(t.line, (lines.get(t.line) ?? 0) + t.ticks);
const src = fs.readFileSync(process.argv[5], 'utf8').split('\n');
for (const [l, t] of [...lines].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(String(t).padStart(5), l, src[l - 1]?.trim().slice(0, 110));
