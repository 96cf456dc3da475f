/**
 * TF1 while loops (tf.compat.v1.while_loop in graphs without control flow
 * v2) rewritten as TF2 functional While ops, before compiling.
 *
 * A v1 loop is a cycle of frame ops: for each loop variable
 *   Enter(x, frame) → Merge(Enter, NextIteration) → Switch(Merge, LoopCond(cond))
 *   Switch:0 → Exit (the result)   Switch:1 → body → NextIteration → Merge
 * plus constant Enters for loop invariants. Each frame becomes one `While`
 * node whose inputs are the loop variables' initial values followed by the
 * invariants, with two generated library functions: the condition (from the
 * Merge outputs to LoopCond's input) and the body (from the Switch:1 outputs
 * to the NextIteration inputs; invariants pass through). Each Exit node is
 * replaced by an Identity of the While output, so its consumers are untouched.
 * Frames are lifted innermost first, so an inner loop is already a While node
 * inside the outer loop's body.
 */
import { invalidArgument } from '../errors.js';
import type { DType } from '../dtypes.js';
import type { ArgDef, AttrValue, FunctionDef, MetaGraph, NodeDef } from './types.js';

/** Ops a TF1 while loop is made of: rewritten into a While op before compiling, so they need no kernel. */
export const FRAME_OPS: ReadonlySet<string> = new Set(['Enter', 'RefEnter', 'Exit', 'RefExit', 'Merge', 'RefMerge', 'Switch', 'RefSwitch', 'NextIteration', 'RefNextIteration', 'LoopCond']);

const nodeOf = (input: string) => input.replace(/^\^/, '').replace(/:\d+$/, '');
const outputOf = (input: string) => {
  const m = /:(\d+)$/.exec(input);
  return m ? Number(m[1]) : 0;
};
const strAttr = (n: NodeDef, name: string) => {
  const a = n.attr[name];
  return a?.kind === 's' ? Buffer.from(a.s).toString('utf8') : '';
};
const boolAttr = (n: NodeDef, name: string) => {
  const a = n.attr[name];
  return a?.kind === 'b' ? a.b : false;
};
const typeAttr = (n: NodeDef, name: string): DType => {
  const a = n.attr[name];
  if (a?.kind !== 'type') throw invalidArgument(`Node '${n.name}' (${n.op}) has no type attr '${name}'`);
  return a.type;
};

interface Frame {
  name: string;
  /** Per loop variable: its Enter, Merge, Switch, NextIteration and (if any) Exit. */
  vars: { enter: NodeDef; merge: NodeDef; sw: NodeDef; next: NodeDef; exit?: NodeDef }[];
  invariants: NodeDef[];
  loopCond: NodeDef;
}

/** The MetaGraph with its v1 loops lifted (itself when it has none). */
export function withTf1LoopsLifted(meta: MetaGraph): MetaGraph {
  if (!meta.graphDef.node.some((n) => n.op === 'Enter' || n.op === 'RefEnter')) return meta;
  const { nodes, functions } = liftTf1WhileLoops(meta.graphDef.node);
  return { ...meta, graphDef: { ...meta.graphDef, node: nodes, library: { function: [...meta.graphDef.library.function, ...functions] } } };
}

function findFrames(nodes: readonly NodeDef[], byName: Map<string, NodeDef>): Frame[] {
  const consumers = new Map<string, NodeDef[]>();
  for (const n of nodes) {
    for (const i of n.input) {
      if (i.startsWith('^')) continue;
      const key = nodeOf(i);
      let list = consumers.get(key);
      if (!list) consumers.set(key, (list = []));
      list.push(n);
    }
  }
  const frames = new Map<string, Frame>();
  for (const enter of nodes) {
    if (enter.op !== 'Enter' && enter.op !== 'RefEnter') continue;
    const name = strAttr(enter, 'frame_name');
    let frame = frames.get(name);
    if (!frame) frames.set(name, (frame = { name, vars: [], invariants: [], loopCond: undefined as unknown as NodeDef }));
    if (boolAttr(enter, 'is_constant')) {
      frame.invariants.push(enter);
      continue;
    }
    const merge = (consumers.get(enter.name) ?? []).find((c) => c.op === 'Merge' || c.op === 'RefMerge');
    if (!merge) throw invalidArgument(`TF1 while loop '${name}': Enter node '${enter.name}' feeds no Merge`);
    const next = merge.input.map((i) => byName.get(nodeOf(i))).find((n) => n?.op === 'NextIteration' || n?.op === 'RefNextIteration');
    const sw = (consumers.get(merge.name) ?? []).find((c) => c.op === 'Switch' || c.op === 'RefSwitch');
    if (!next || !sw) throw invalidArgument(`TF1 while loop '${name}': Merge node '${merge.name}' has no NextIteration or Switch`);
    const loopCond = byName.get(nodeOf(sw.input[1]));
    if (!loopCond || loopCond.op !== 'LoopCond') throw invalidArgument(`TF1 while loop '${name}': Switch node '${sw.name}' is not driven by a LoopCond`);
    frame.loopCond = loopCond;
    const exit = (consumers.get(sw.name) ?? []).find((c) => (c.op === 'Exit' || c.op === 'RefExit') && c.input.some((i) => nodeOf(i) === sw.name && outputOf(i) === 0));
    frame.vars.push({ enter, merge, sw, next, exit });
  }
  for (const f of frames.values()) if (!f.loopCond) throw invalidArgument(`TF1 while loop '${f.name}' has no loop variable`);
  return [...frames.values()];
}

/**
 * The nodes computing `roots` back to the stop nodes (which become function
 * arguments), or undefined when they cross another, not yet lifted, frame.
 */
function subgraph(roots: string[], stops: Set<string>, byName: Map<string, NodeDef>): NodeDef[] | undefined {
  const seen = new Set<string>();
  const order: NodeDef[] = [];
  const stack = [...roots];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name) || stops.has(name)) continue;
    seen.add(name);
    const n = byName.get(name);
    if (!n) throw invalidArgument(`TF1 while loop: node '${name}' is referenced but not in the graph`);
    if (FRAME_OPS.has(n.op)) return undefined;
    order.push(n);
    for (const i of n.input) stack.push(nodeOf(i));
  }
  return order;
}

const arg = (name: string, type: DType): ArgDef => ({ name, type, typeAttr: '', numberAttr: '', typeListAttr: '', isRef: false });

/** A function over `args` computing `rets`, with references to the stop tensors rewritten to arguments. */
function makeFunction(name: string, args: ArgDef[], body: NodeDef[], rename: (input: string) => string | null, rets: string[], retTypes: DType[]): FunctionDef {
  const nodeDef = body.map((n) => ({
    ...n,
    input: n.input.map(rename).filter((i): i is string => i !== null),
  }));
  const ret: Record<string, string> = {};
  const outputArg = rets.map((r, i) => {
    ret[`out${i}`] = rename(r)!;
    return arg(`out${i}`, retTypes[i]);
  });
  return {
    signature: { name, inputArg: args, outputArg, controlOutput: [], attr: [], isStateful: true },
    attr: {},
    nodeDef,
    ret,
    controlRet: {},
  };
}

function funcAttr(name: string): AttrValue {
  return { kind: 'func', func: { name, attr: {} } };
}

/** Rewrites every v1 loop frame of `nodes` (see the module comment). */
export function liftTf1WhileLoops(nodes: readonly NodeDef[]): { nodes: NodeDef[]; functions: FunctionDef[] } {
  let current = [...nodes];
  const functions: FunctionDef[] = [];
  let counter = 0;
  for (;;) {
    const byName = new Map(current.map((n) => [n.name, n]));
    const frames = findFrames(current, byName);
    if (frames.length === 0) return { nodes: current, functions };
    let lifted = false;
    for (const frame of frames) {
      const n = frame.vars.length;
      const types = frame.vars.map((v) => typeAttr(v.enter, 'T'));
      const invTypes = frame.invariants.map((e) => typeAttr(e, 'T'));
      const args = [...types.map((t, i) => arg(`arg${i}`, t)), ...invTypes.map((t, j) => arg(`arg${n + j}`, t))];
      const mergeArg = new Map(frame.vars.map((v, i) => [v.merge.name, `arg${i}`]));
      const switchArg = new Map(frame.vars.map((v, i) => [v.sw.name, `arg${i}`]));
      const invArg = new Map(frame.invariants.map((e, j) => [e.name, `arg${n + j}`]));
      const condRoot = frame.loopCond.input[0];
      const condNodes = subgraph([nodeOf(condRoot)], new Set([...mergeArg.keys(), ...invArg.keys()]), byName);
      const bodyRoots = frame.vars.map((v) => v.next.input[0]);
      const bodyNodes = subgraph(bodyRoots.map(nodeOf), new Set([...switchArg.keys(), ...invArg.keys()]), byName);
      if (!condNodes || !bodyNodes) continue; // an inner loop comes first
      const base = `${frame.name.replace(/[^A-Za-z0-9_./-]/g, '_')}_lifted_${counter++}`;
      const renameWith = (args: Map<string, string>) => (input: string) => {
        const node = nodeOf(input);
        const a = args.get(node) ?? invArg.get(node);
        if (a === undefined) return input;
        return input.startsWith('^') ? null : a;
      };
      // The Switch's true output (:1) is the body's view of a loop variable.
      const condFn = makeFunction(`${base}_cond`, args, condNodes, renameWith(mergeArg), [condRoot], ['bool']);
      const bodyRets = [...bodyRoots, ...frame.invariants.map((_, j) => `arg${n + j}`)];
      const bodyFn = makeFunction(`${base}_body`, args, bodyNodes, renameWith(switchArg), bodyRets, [...types, ...invTypes]);
      functions.push(condFn, bodyFn);
      const whileNode: NodeDef = {
        name: `${base}/While`,
        op: 'While',
        input: [...frame.vars.map((v) => v.enter.input[0]), ...frame.invariants.map((e) => e.input[0])],
        device: '',
        attr: {
          T: { kind: 'list', list: { s: [], i: [], f: [], b: [], type: [...types, ...invTypes], shape: [], tensor: [], func: [] } },
          cond: funcAttr(condFn.signature.name),
          body: funcAttr(bodyFn.signature.name),
          parallel_iterations: { kind: 'i', i: 10 },
        },
      };
      const exits = new Map(frame.vars.flatMap((v, i) => (v.exit ? [[v.exit.name, i] as const] : [])));
      // Only the frame ops go; the body's nodes stay (unreachable now, so pruned), in case one
      // of them, a shared constant say, is also used outside the loop.
      const loopOps = new Set([
        ...frame.vars.flatMap((v) => [v.enter.name, v.merge.name, v.sw.name, v.next.name]),
        ...frame.invariants.map((e) => e.name),
        frame.loopCond.name,
      ]);
      const next: NodeDef[] = [];
      for (const node of current) {
        const exitIndex = exits.get(node.name);
        if (exitIndex !== undefined) {
          next.push({ name: node.name, op: 'Identity', input: [`${whileNode.name}:${exitIndex}`], device: '', attr: { T: { kind: 'type', type: types[exitIndex] } } });
        } else if (!loopOps.has(node.name)) {
          next.push(node);
        }
      }
      next.push(whileNode);
      current = next;
      lifted = true;
      break;
    }
    if (!lifted) throw invalidArgument('TF1 while loops could not be lifted: their frames are not nested in a way this runtime understands');
  }
}
