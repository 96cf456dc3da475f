/**
 * A renderer for the subset of Helm's template language that
 * deploy/helm/modelhost uses, so `npm test` can render the chart where the
 * `helm` binary is not installed (and no npm package renders Helm charts).
 * It exists for the tests only; `helm template` remains the reference.
 *
 * Supported, with Go text/template + Helm semantics:
 *  - actions `{{ }}` with `{{-` / `-}}` whitespace trimming, comments `{{/* *\/}}`;
 *  - `if` / `else if` / `else` / `end`, `with` (+ `else`), `range` over lists
 *    and maps (`$v :=`, `$k, $v :=`), `define` + `include`, `$x := pipeline`;
 *  - pipelines `a | f b`, parenthesised sub-pipelines, fields `.A.b`, `$`,
 *    `$x.a`, string / raw-string / number / bool / nil literals;
 *  - functions: and or not eq ne lt le gt ge len print printf (%s %d %v %q)
 *    include required fail default empty quote toYaml toString int add
 *    indent nindent trunc trimSuffix replace lower contains hasKey b64enc
 *    sha256sum;
 *  - Go's truth, Go's printing of numbers (values from YAML are float64:
 *    1000000 prints as 1e+06), Go's refusal to compare a float64 with an int
 *    literal (`gt .Values.n 1` fails in Helm too: write `gt (int .Values.n) 1`),
 *    nil-pointer errors on fields of a missing map, `<no value>` printed as "";
 *  - the Helm objects .Values (chart values deep-merged with overrides),
 *    .Release (Name, Namespace, Service, IsInstall, IsUpgrade, Revision),
 *    .Chart (Name, Version, AppVersion, ...), .Template (Name, BasePath).
 *
 * Anything else (an unknown function or keyword, `template`, `block`, `tpl`,
 * `lookup`, `.Files`, `.Capabilities`) throws, naming it: the chart must stay
 * inside this subset for its test to pass.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** An integer constant or `int` result: Go keeps ints and float64s apart in comparisons. */
class GoInt {
  constructor(readonly value: number) {}
}
type Value = unknown;

export class TemplateError extends Error {}

// ---------------------------------------------------------------- lexing

interface Action {
  kind: 'action';
  text: string;
  where: string;
}
interface Text {
  kind: 'text';
  text: string;
}

function split(source: string, name: string): (Action | Text)[] {
  const out: (Action | Text)[] = [];
  let i = 0;
  let trimNext = false;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    let text = open < 0 ? source.slice(i) : source.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ kind: 'text', text });
      break;
    }
    const trimLeft = source.startsWith('{{- ', open) || source.startsWith('{{-\n', open) || source.startsWith('{{-\t', open);
    if (trimLeft) text = text.replace(/\s+$/, '');
    out.push({ kind: 'text', text });
    let start = open + (trimLeft ? 3 : 2);
    let close: number;
    if (source.startsWith('/*', start) || source.slice(start).trimStart().startsWith('/*')) {
      const end = source.indexOf('*/', start);
      if (end < 0) throw new TemplateError(`${name}: unclosed comment`);
      close = source.indexOf('}}', end);
      start = close; // comments produce nothing
    } else {
      close = findClose(source, start, name);
    }
    const trimRight = source[close - 1] === '-' && /\s/.test(source[close - 2] ?? '');
    const inner = source.slice(start, trimRight ? close - 1 : close).trim();
    const line = source.slice(0, open).split('\n').length;
    if (start !== close) out.push({ kind: 'action', text: inner, where: `${name}:${line}` });
    trimNext = trimRight;
    i = close + 2;
  }
  return out;
}

/** The `}}` closing an action opened before `from`, skipping string literals. */
function findClose(source: string, from: number, name: string): number {
  for (let i = from; i < source.length; i++) {
    const c = source[i];
    if (c === '"') {
      for (i++; i < source.length && source[i] !== '"'; i++) if (source[i] === '\\') i++;
    } else if (c === '`') {
      i = source.indexOf('`', i + 1);
      if (i < 0) break;
    } else if (c === '}' && source[i + 1] === '}') {
      return i;
    }
  }
  throw new TemplateError(`${name}: unclosed action`);
}

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number; int: boolean }
  | { t: 'ident'; v: string }
  | { t: 'field'; v: string[] }
  | { t: 'var'; v: string; fields: string[] }
  | { t: '(' | ')' | '|' | ':=' | '=' | ',' };

function tokenize(text: string, where: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fieldsAt = (): string[] => {
    const fields: string[] = [];
    while (text[i] === '.' && /[A-Za-z_]/.test(text[i + 1] ?? '')) {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i))!;
      fields.push(m[1]);
      i += m[0].length;
    }
    return fields;
  };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      out.push({ t: 'str', v: JSON.parse(text.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = text.indexOf('`', i + 1);
      out.push({ t: 'str', v: text.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '(' || c === ')' || c === '|' || c === ',') {
      out.push({ t: c });
      i++;
    } else if (text.startsWith(':=', i)) {
      out.push({ t: ':=' });
      i += 2;
    } else if (c === '=') {
      out.push({ t: '=' });
      i++;
    } else if (c === '.') {
      if (!/[A-Za-z_]/.test(text[i + 1] ?? '')) {
        out.push({ t: 'field', v: [] });
        i++;
      } else {
        out.push({ t: 'field', v: fieldsAt() });
      }
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(text.slice(i))!;
      i += m[0].length;
      out.push({ t: 'var', v: m[0], fields: fieldsAt() });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i));
      if (!m) throw new TemplateError(`${where}: unexpected "${c}"`);
      out.push({ t: 'num', v: Number(m[0]), int: m[1] === undefined });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      out.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else {
      throw new TemplateError(`${where}: unexpected "${c}" in {{ ${text} }}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- parsing

type Arg =
  | { k: 'lit'; v: Value }
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'fn'; name: string }
  | { k: 'pipe'; pipe: Pipeline };
type Command = Arg[];
interface Pipeline {
  decl?: string[];
  assign?: boolean;
  commands: Command[];
  where: string;
}
type Node =
  | { n: 'text'; text: string }
  | { n: 'out'; pipe: Pipeline }
  | { n: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { n: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { n: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] };

const FUNCTIONS = new Set([
  'and', 'or', 'not', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'len', 'print', 'printf', 'include', 'required', 'fail', 'default', 'empty',
  'quote', 'toYaml', 'toString', 'int', 'add', 'indent', 'nindent', 'trunc', 'trimSuffix', 'replace', 'lower', 'contains', 'hasKey',
  'b64enc', 'sha256sum',
]);

function parsePipeline(tokens: Token[], where: string): Pipeline {
  let pos = 0;
  const pipe: Pipeline = { commands: [], where };
  // Declarations: $x := ... or $k, $v := ...
  const declEnd = tokens.findIndex((t) => t.t === ':=' || t.t === '=');
  if (declEnd > 0 && tokens.slice(0, declEnd).every((t) => t.t === 'var' || t.t === ',')) {
    pipe.decl = tokens.slice(0, declEnd).filter((t): t is Extract<Token, { t: 'var' }> => t.t === 'var').map((t) => t.v);
    pipe.assign = tokens[declEnd].t === '=';
    pos = declEnd + 1;
  }
  const parseCommands = (stopAtParen: boolean): Command[] => {
    const commands: Command[] = [];
    let cmd: Command = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++];
      if (tok.t === ')') {
        if (!stopAtParen) throw new TemplateError(`${where}: unexpected )`);
        break;
      }
      if (tok.t === '|') {
        if (cmd.length === 0) throw new TemplateError(`${where}: missing command before |`);
        commands.push(cmd);
        cmd = [];
        continue;
      }
      if (tok.t === '(') {
        cmd.push({ k: 'pipe', pipe: { commands: parseCommands(true), where } });
        continue;
      }
      if (tok.t === 'str') cmd.push({ k: 'lit', v: tok.v });
      else if (tok.t === 'num') cmd.push({ k: 'lit', v: tok.int ? new GoInt(tok.v) : tok.v });
      else if (tok.t === 'field') cmd.push({ k: 'field', path: tok.v });
      else if (tok.t === 'var') cmd.push({ k: 'var', name: tok.v, path: tok.fields });
      else if (tok.t === 'ident') {
        if (tok.v === 'true' || tok.v === 'false') cmd.push({ k: 'lit', v: tok.v === 'true' });
        else if (tok.v === 'nil') cmd.push({ k: 'lit', v: null });
        else if (FUNCTIONS.has(tok.v)) cmd.push({ k: 'fn', name: tok.v });
        else throw new TemplateError(`${where}: function "${tok.v}" is not in the subset this renderer supports (test/deploy/helm_subset.ts)`);
      } else throw new TemplateError(`${where}: unexpected "${tok.t}"`);
    }
    if (cmd.length) commands.push(cmd);
    if (commands.length === 0) throw new TemplateError(`${where}: empty pipeline`);
    return commands;
  };
  pipe.commands = parseCommands(false);
  return pipe;
}

interface Parsed {
  nodes: Node[];
  defines: Map<string, Node[]>;
}

function parse(source: string, name: string): Parsed {
  const items = split(source, name);
  const defines = new Map<string, Node[]>();
  let pos = 0;
  // Parses nodes until one of `stops` (returned) or the end.
  const parseList = (stops: string[]): { nodes: Node[]; stop?: string; rest?: string; where?: string } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const item = items[pos++];
      if (item.kind === 'text') {
        if (item.text) nodes.push({ n: 'text', text: item.text });
        continue;
      }
      const [word, ...restWords] = item.text.split(/\s+/);
      const rest = item.text.slice(word.length).trim();
      if (stops.includes(word)) return { nodes, stop: word, rest, where: item.where };
      switch (word) {
        case 'if': {
          const branches = [{ cond: parsePipeline(tokenize(rest, item.where), item.where), body: [] as Node[] }];
          let otherwise: Node[] = [];
          for (;;) {
            const r = parseList(['else', 'end']);
            if (!r.stop) throw new TemplateError(`${item.where}: if without end`);
            branches[branches.length - 1].body = r.nodes;
            if (r.stop === 'end') break;
            if (r.rest!.startsWith('if ')) {
              branches.push({ cond: parsePipeline(tokenize(r.rest!.slice(3), r.where!), r.where!), body: [] });
              continue;
            }
            const e = parseList(['end']);
            if (!e.stop) throw new TemplateError(`${item.where}: if without end`);
            otherwise = e.nodes;
            break;
          }
          nodes.push({ n: 'if', branches, otherwise });
          break;
        }
        case 'with':
        case 'range': {
          const pipe = parsePipeline(tokenize(rest, item.where), item.where);
          const r = parseList(['else', 'end']);
          if (!r.stop) throw new TemplateError(`${item.where}: ${word} without end`);
          let otherwise: Node[] = [];
          if (r.stop === 'else') {
            const e = parseList(['end']);
            if (!e.stop) throw new TemplateError(`${item.where}: ${word} without end`);
            otherwise = e.nodes;
          }
          nodes.push({ n: word, pipe, body: r.nodes, otherwise });
          break;
        }
        case 'define': {
          const tname = JSON.parse(rest) as string;
          const r = parseList(['end']);
          if (!r.stop) throw new TemplateError(`${item.where}: define without end`);
          defines.set(tname, r.nodes);
          break;
        }
        case 'else':
        case 'end':
          throw new TemplateError(`${item.where}: unexpected ${word}`);
        case 'template':
        case 'block':
        case 'break':
        case 'continue':
          throw new TemplateError(`${item.where}: "${word}" is not in the subset this renderer supports`);
        default:
          void restWords;
          nodes.push({ n: 'out', pipe: parsePipeline(tokenize(item.text, item.where), item.where) });
      }
    }
    return { nodes };
  };
  const top = parseList([]);
  return { nodes: top.nodes, defines };
}

// ---------------------------------------------------------------- evaluation

interface Scope {
  dot: Value;
  root: Value;
  vars: Map<string, Value>[];
}

const isMap = (v: Value): v is Record<string, Value> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoInt);
const num = (v: Value): number => (v instanceof GoInt ? v.value : (v as number));

/** Go's truth: false, 0, nil, "" and empty lists and maps are false. */
function truth(v: Value): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v instanceof GoInt) return v.value !== 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** fmt's %g with the shortest precision, as Go prints a float64 with %v. */
function goFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 6) {
    const [mant, e] = x.toExponential().split('e');
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(x);
}

/** How a value prints in template output (fmt's %v, with Helm's "<no value>" → ""). */
function show(v: Value): string {
  if (v === null || v === undefined) return '';
  if (v instanceof GoInt) return String(v.value);
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${show(v[k])}`).join(' ')}]`;
  return String(v);
}

function kind(v: Value): string {
  if (v instanceof GoInt) return 'int';
  if (typeof v === 'number') return 'float64';
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (isMap(v)) return 'map';
  return typeof v;
}

function compare(a: Value, b: Value, op: string, where: string): number {
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb) throw new TemplateError(`${where}: error calling ${op}: incompatible types for comparison (${ka} and ${kb})`);
  if (ka === 'int' || ka === 'float64') return num(a) - num(b);
  if (ka === 'string') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  if (ka === 'boolean' && (op === 'eq' || op === 'ne')) return a === b ? 0 : 1;
  throw new TemplateError(`${where}: error calling ${op}: invalid type for comparison (${ka})`);
}

function field(v: Value, names: readonly string[], where: string, shown: string): Value {
  let cur = v;
  for (const n of names) {
    if (cur === null || cur === undefined) throw new TemplateError(`${where}: nil pointer evaluating interface {}.${n} (in ${shown})`);
    if (!isMap(cur)) throw new TemplateError(`${where}: can't evaluate field ${n} in type ${kind(cur)} (in ${shown})`);
    cur = Object.prototype.hasOwnProperty.call(cur, n) ? cur[n] : null;
  }
  return cur;
}

function toYaml(v: Value): string {
  if (v === null || v === undefined) return 'null';
  const plain = JSON.parse(JSON.stringify(v, (_k, x: Value) => (x instanceof GoInt ? x.value : x))) as Value;
  // As sigs.k8s.io/yaml (go-yaml v2) writes it: sorted keys, YAML 1.1 scalars quoted ("y", "on", "no"), sequences not indented under their key.
  return YAML.stringify(plain, { version: '1.1', sortMapEntries: true, lineWidth: 0, indentSeq: false }).replace(/\n$/, '');
}

function printf(format: string, args: Value[], where: string): string {
  let i = 0;
  return format.replace(/%([sdvq%])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'q') return JSON.stringify(show(a));
    if (verb === 'd') {
      if (!(a instanceof GoInt)) throw new TemplateError(`${where}: printf %d of a ${kind(a)} (Go prints %!d(...)): use int`);
      return String(a.value);
    }
    return show(a);
  });
}

export interface ChartContext {
  Values: Record<string, Value>;
  Release: Record<string, Value>;
  Chart: Record<string, Value>;
  Template?: Record<string, Value>;
}

class Renderer {
  constructor(private readonly defines: Map<string, Node[]>) {}

  run(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      switch (node.n) {
        case 'text':
          out += node.text;
          break;
        case 'out': {
          const v = this.pipeline(node.pipe, scope);
          if (!node.pipe.decl) out += show(v);
          break;
        }
        case 'if': {
          const branch = node.branches.find((b) => truth(this.pipeline(b.cond, scope)));
          out += this.run(branch ? branch.body : node.otherwise, { ...scope, vars: [...scope.vars, new Map()] });
          break;
        }
        case 'with': {
          const v = this.pipeline(node.pipe, scope);
          out += truth(v) ? this.run(node.body, { ...scope, dot: v, vars: [...scope.vars, new Map()] }) : this.run(node.otherwise, scope);
          break;
        }
        case 'range': {
          const decl = node.pipe.decl;
          const v = this.pipeline({ ...node.pipe, decl: undefined }, scope);
          const entries: [Value, Value][] = Array.isArray(v)
            ? v.map((x, i) => [new GoInt(i), x])
            : isMap(v)
              ? Object.keys(v).sort().map((k) => [k, v[k]])
              : v === null || v === undefined
                ? []
                : (() => {
                    throw new TemplateError(`${node.pipe.where}: range can't iterate over ${show(v)}`);
                  })();
          if (entries.length === 0) {
            out += this.run(node.otherwise, scope);
            break;
          }
          for (const [k, x] of entries) {
            const vars = new Map<string, Value>();
            if (decl?.length === 1) vars.set(decl[0], x);
            if (decl?.length === 2) {
              vars.set(decl[0], k);
              vars.set(decl[1], x);
            }
            out += this.run(node.body, { ...scope, dot: x, vars: [...scope.vars, vars] });
          }
          break;
        }
      }
    }
    return out;
  }

  private lookupVar(name: string, scope: Scope, where: string): Value {
    if (name === '$') return scope.root;
    for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i].has(name)) return scope.vars[i].get(name);
    throw new TemplateError(`${where}: undefined variable "${name}"`);
  }

  pipeline(pipe: Pipeline, scope: Scope): Value {
    let value: Value = undefined;
    let piped = false;
    for (const cmd of pipe.commands) {
      value = this.command(cmd, scope, pipe.where, piped ? [value] : []);
      piped = true;
    }
    if (pipe.decl) {
      const top = scope.vars[scope.vars.length - 1];
      if (pipe.assign) {
        const owner = [...scope.vars].reverse().find((m) => m.has(pipe.decl![0]));
        if (!owner) throw new TemplateError(`${pipe.where}: undefined variable "${pipe.decl[0]}"`);
        owner.set(pipe.decl[0], value);
      } else top.set(pipe.decl[0], value);
    }
    return value;
  }

  private arg(a: Arg, scope: Scope, where: string): Value {
    switch (a.k) {
      case 'lit':
        return a.v;
      case 'field':
        return field(scope.dot, a.path, where, `.${a.path.join('.')}`);
      case 'var':
        return field(this.lookupVar(a.name, scope, where), a.path, where, `${a.name}.${a.path.join('.')}`);
      case 'pipe':
        return this.pipeline(a.pipe, scope);
      case 'fn':
        throw new TemplateError(`${where}: ${a.name} is a function: call it in parentheses`);
    }
  }

  private command(cmd: Command, scope: Scope, where: string, piped: Value[]): Value {
    const [head, ...rest] = cmd;
    if (head.k !== 'fn') {
      if (rest.length > 0 || piped.length > 0) throw new TemplateError(`${where}: can't give arguments to a non-function`);
      return this.arg(head, scope, where);
    }
    const args = [...rest.map((a) => this.arg(a, scope, where)), ...piped];
    return this.call(head.name, args, scope, where);
  }

  private call(name: string, args: Value[], scope: Scope, where: string): Value {
    const need = (n: number) => {
      if (args.length !== n) throw new TemplateError(`${where}: wrong number of args for ${name}: want ${n} got ${args.length}`);
    };
    const str = (v: Value) => (typeof v === 'string' ? v : show(v));
    switch (name) {
      case 'and':
        return args.find((a) => !truth(a)) ?? args[args.length - 1];
      case 'or':
        return args.find((a) => truth(a)) ?? args[args.length - 1];
      case 'not':
        need(1);
        return !truth(args[0]);
      case 'eq':
        need(2);
        return compare(args[0], args[1], 'eq', where) === 0;
      case 'ne':
        need(2);
        return compare(args[0], args[1], 'ne', where) !== 0;
      case 'lt':
        need(2);
        return compare(args[0], args[1], 'lt', where) < 0;
      case 'le':
        need(2);
        return compare(args[0], args[1], 'le', where) <= 0;
      case 'gt':
        need(2);
        return compare(args[0], args[1], 'gt', where) > 0;
      case 'ge':
        need(2);
        return compare(args[0], args[1], 'ge', where) >= 0;
      case 'len':
        need(1);
        if (typeof args[0] === 'string' || Array.isArray(args[0])) return new GoInt(args[0].length);
        if (isMap(args[0])) return new GoInt(Object.keys(args[0]).length);
        throw new TemplateError(`${where}: len of ${kind(args[0])}`);
      case 'print':
        return args.map(show).join('');
      case 'printf':
        return printf(str(args[0]), args.slice(1), where);
      case 'include': {
        need(2);
        const body = this.defines.get(str(args[0]));
        if (!body) throw new TemplateError(`${where}: no template "${str(args[0])}" associated with template`);
        return this.run(body, { dot: args[1], root: args[1], vars: [new Map([['$', args[1]]])] });
      }
      case 'required':
        need(2);
        if (args[1] === null || args[1] === undefined || args[1] === '') throw new TemplateError(`${where}: execution error: ${str(args[0])}`);
        return args[1];
      case 'fail':
        need(1);
        throw new TemplateError(`${where}: execution error: ${str(args[0])}`);
      case 'default':
        need(2);
        return truth(args[1]) ? args[1] : args[0];
      case 'empty':
        need(1);
        return !truth(args[0]);
      case 'quote':
        return args.filter((a) => a !== null && a !== undefined).map((a) => JSON.stringify(str(a))).join(' ');
      case 'toYaml':
        need(1);
        return toYaml(args[0]);
      case 'toString':
        need(1);
        return str(args[0]);
      case 'int': {
        need(1);
        const v = args[0];
        const n = v instanceof GoInt ? v.value : typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' ? Math.trunc(Number(v)) || 0 : 0;
        return new GoInt(n);
      }
      case 'add':
        return new GoInt(args.reduce<number>((s, a) => s + Math.trunc(num(a)), 0));
      case 'indent':
      case 'nindent': {
        need(2);
        const pad = ' '.repeat(num(args[0]));
        const text = pad + str(args[1]).replace(/\n/g, `\n${pad}`);
        return name === 'nindent' ? `\n${text}` : text;
      }
      case 'trunc': {
        need(2);
        const n = num(args[0]);
        const s = str(args[1]);
        return n >= 0 ? s.slice(0, n) : s.slice(Math.max(0, s.length + n));
      }
      case 'trimSuffix':
        need(2);
        return str(args[1]).endsWith(str(args[0])) ? str(args[1]).slice(0, -str(args[0]).length || undefined) : str(args[1]);
      case 'replace':
        need(3);
        return str(args[2]).split(str(args[0])).join(str(args[1]));
      case 'lower':
        need(1);
        return str(args[0]).toLowerCase();
      case 'contains':
        need(2);
        return str(args[1]).includes(str(args[0]));
      case 'hasKey':
        need(2);
        return isMap(args[0]) && Object.prototype.hasOwnProperty.call(args[0], str(args[1]));
      case 'b64enc':
        need(1);
        return Buffer.from(str(args[0]), 'utf8').toString('base64');
      case 'sha256sum':
        need(1);
        return crypto.createHash('sha256').update(str(args[0])).digest('hex');
      default:
        throw new TemplateError(`${where}: function "${name}" not defined`);
    }
  }
}

// ---------------------------------------------------------------- charts

/** Helm's coalescing of values: maps merge key by key, anything else replaces; null deletes a key. */
export function mergeValues(base: Value, over: Value): Value {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, Value> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = k in base ? mergeValues(base[k], v) : v;
  }
  return out;
}

/** Renders one template source with a context (for the renderer's own tests). */
export function renderString(source: string, dot: Value, defines: Record<string, string> = {}): string {
  const parsed = parse(source, 'inline');
  for (const [n, s] of Object.entries(defines)) for (const [k, v] of parse(s, n).defines) parsed.defines.set(k, v);
  return new Renderer(parsed.defines).run(parsed.nodes, { dot, root: dot, vars: [new Map([['$', dot]])] });
}

export interface RenderedChart {
  /** Each template's output (templates/NAME → text), NOTES.txt included. */
  files: Map<string, string>;
  /** Every YAML document of the manifests, parsed, in file order. */
  objects: Record<string, unknown>[];
}

export interface RenderOptions {
  releaseName: string;
  namespace?: string;
  /** Overrides merged over the chart's values.yaml (as `helm template -f`). */
  values?: Record<string, unknown>;
}

/** `helm template RELEASE CHART_DIR -f values` for charts within the subset. */
export function renderChart(chartDir: string, options: RenderOptions): RenderedChart {
  const chart = YAML.parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, Value>;
  const defaults = (YAML.parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) ?? {}) as Record<string, Value>;
  const values = mergeValues(defaults, options.values ?? {}) as Record<string, Value>;
  const chartObject: Record<string, Value> = {};
  for (const [k, v] of Object.entries(chart)) chartObject[k.charAt(0).toUpperCase() + k.slice(1)] = v;
  const templatesDir = path.join(chartDir, 'templates');
  const names = fs.readdirSync(templatesDir).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f)).sort();
  const defines = new Map<string, Node[]>();
  const parsed = new Map<string, Parsed>();
  for (const n of names) {
    const p = parse(fs.readFileSync(path.join(templatesDir, n), 'utf8'), `templates/${n}`);
    for (const [k, v] of p.defines) defines.set(k, v);
    parsed.set(n, p);
  }
  const renderer = new Renderer(defines);
  const files = new Map<string, string>();
  const objects: Record<string, unknown>[] = [];
  for (const n of names) {
    if (n.startsWith('_')) continue;
    const top: ChartContext = {
      Values: values,
      Release: { Name: options.releaseName, Namespace: options.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: new GoInt(1) },
      Chart: chartObject,
      Template: { Name: `${String(chart.name)}/templates/${n}`, BasePath: `${String(chart.name)}/templates` },
    };
    const text = renderer.run(parsed.get(n)!.nodes, { dot: top, root: top, vars: [new Map<string, Value>([['$', top]])] });
    files.set(n, text);
    if (n === 'NOTES.txt') continue;
    for (const doc of YAML.parseAllDocuments(text)) {
      if (doc.errors.length) throw new TemplateError(`templates/${n}: the output is not YAML: ${doc.errors[0].message}\n${text}`);
      const obj = doc.toJS() as Record<string, unknown> | null;
      if (obj !== null && obj !== undefined) objects.push(obj);
    }
  }
  return { files, objects };
}
