// `defrag --safe --defrag-rule '<expr>'`: whether one member is worth defragmenting, decided from its
// Status. The language is the one ahrtr/etcd-defrag documents for its --defrag-rule (a Go-like expression:
// arithmetic `+ - * / %`, comparisons `== != < <= > >=`, `&& || !`, parentheses, the variables below), e.g.
// `dbQuotaUsage > 0.8 || dbSize - dbSizeInUse > 200*1024*1024`.
//
// Numbers are float64, as in etcd-defrag's evaluator, so `dbSize > 0.8*dbQuota` works and `dbQuota*80/100`
// is not truncated. (A CEL library was considered: CEL's int and double do not mix — `dbSize > 0.8*dbQuota`
// is a type error there — so rules written for etcd-defrag would be refused.)
//
// A rule is parsed and type-checked once, before anything is touched: a bad rule is an error of the
// command line, never a surprise half-way through a cluster.
import type { DefragRuleVars } from './defrag-rule-vars.js';

export class DefragRuleError extends Error {}

type Type = 'number' | 'bool';

type Node =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'var'; readonly name: keyof DefragRuleVars }
  | { readonly kind: 'unary'; readonly op: '!' | '-' | '+'; readonly arg: Node }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Node; readonly right: Node };

type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

/** The variables a rule may name (their meaning: defrag-rule-vars.ts). */
export const RULE_VARIABLES: readonly (keyof DefragRuleVars)[] = [
  'dbSize',
  'dbSizeInUse',
  'dbSizeFree',
  'dbQuota',
  'dbQuotaUsage',
];

/** Binary operators by precedence level, loosest first (Go's levels 1–5). */
const LEVELS: readonly (readonly BinaryOp[])[] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/', '%'],
];

/** Longest first, so that `<=` is not read as `<` then `=`. */
const OPERATORS = ['||', '&&', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')'];

/** Nesting bound: a rule is a short line, and recursion depth must stay far from the stack's limit. */
const nestingMax = 64;

interface Token {
  readonly text: string;
  /** 1-based column, for error messages. */
  readonly column: number;
  readonly kind: 'num' | 'ident' | 'op' | 'end';
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num !== null) {
      out.push({ text: num[0], column: i + 1, kind: 'num' });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (ident !== null) {
      out.push({ text: ident[0], column: i + 1, kind: 'ident' });
      i += ident[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined)
      throw new DefragRuleError(`unexpected character ${JSON.stringify(c)} at column ${i + 1}`);
    out.push({ text: op, column: i + 1, kind: 'op' });
    i += op.length;
  }
  out.push({ text: '', column: src.length + 1, kind: 'end' });
  return out;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseRule(): Node {
    const node = this.binary(0);
    const t = this.peek();
    if (t.kind !== 'end') throw this.unexpected(t);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private unexpected(t: Token): DefragRuleError {
    return new DefragRuleError(
      t.kind === 'end'
        ? 'unexpected end of the rule'
        : `unexpected ${JSON.stringify(t.text)} at column ${t.column}`,
    );
  }

  private binary(level: number): Node {
    if (level === LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      const op = LEVELS[level]!.find((o) => t.kind === 'op' && t.text === o);
      if (op === undefined) return left;
      this.pos++;
      const right = this.binary(level + 1);
      left = { kind: 'binary', op, left, right };
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '!' || t.text === '-' || t.text === '+')) {
      this.pos++;
      return { kind: 'unary', op: t.text, arg: this.nested(() => this.unary()) };
    }
    return this.primary();
  }

  private nested(f: () => Node): Node {
    if (++this.depth > nestingMax) throw new DefragRuleError(`nested deeper than ${nestingMax} levels`);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private primary(): Node {
    const t = this.peek();
    this.pos++;
    if (t.kind === 'num') {
      const value = Number(t.text);
      if (!Number.isFinite(value)) throw new DefragRuleError(`number ${t.text} out of range`);
      return { kind: 'num', value };
    }
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'false') return { kind: 'bool', value: t.text === 'true' };
      const name = RULE_VARIABLES.find((v) => v === t.text);
      if (name === undefined) {
        throw new DefragRuleError(
          `unknown variable ${JSON.stringify(t.text)} at column ${t.column} (known: ${RULE_VARIABLES.join(', ')})`,
        );
      }
      return { kind: 'var', name };
    }
    if (t.kind === 'op' && t.text === '(') {
      const inner = this.nested(() => this.binary(0));
      const close = this.peek();
      if (close.kind !== 'op' || close.text !== ')') throw this.unexpected(close);
      this.pos++;
      return inner;
    }
    throw this.unexpected(t);
  }
}

/** The node's type; a mismatch (e.g. `dbSize && 1`, `!dbSize`, `(a < b) < c`) is an error. */
function typeOf(n: Node): Type {
  switch (n.kind) {
    case 'num':
    case 'var':
      return 'number';
    case 'bool':
      return 'bool';
    case 'unary':
      expectType(n.arg, n.op === '!' ? 'bool' : 'number', `operator ${n.op}`);
      return n.op === '!' ? 'bool' : 'number';
    case 'binary': {
      if (n.op === '||' || n.op === '&&') {
        expectType(n.left, 'bool', `operator ${n.op}`);
        expectType(n.right, 'bool', `operator ${n.op}`);
        return 'bool';
      }
      if (n.op === '==' || n.op === '!=') {
        const l = typeOf(n.left);
        if (typeOf(n.right) !== l)
          throw new DefragRuleError(`operator ${n.op} compares a number with a condition`);
        return 'bool';
      }
      expectType(n.left, 'number', `operator ${n.op}`);
      expectType(n.right, 'number', `operator ${n.op}`);
      return ['<', '<=', '>', '>='].includes(n.op) ? 'bool' : 'number';
    }
  }
}

function expectType(n: Node, want: Type, where: string): void {
  if (typeOf(n) !== want) {
    throw new DefragRuleError(`${where} needs ${want === 'bool' ? 'a condition' : 'a number'} on each side`);
  }
}

function evaluate(n: Node, vars: DefragRuleVars): number | boolean {
  switch (n.kind) {
    case 'num':
    case 'bool':
      return n.value;
    case 'var':
      return vars[n.name];
    case 'unary': {
      const v = evaluate(n.arg, vars);
      // Types were checked at parse time: `!` has a condition, `-` and `+` a number.
      return n.op === '!' ? !v : n.op === '-' ? -(v as number) : v;
    }
    case 'binary': {
      // && and || short-circuit, as in Go.
      if (n.op === '&&') return evaluate(n.left, vars) !== false && evaluate(n.right, vars);
      if (n.op === '||') return evaluate(n.left, vars) === true || evaluate(n.right, vars);
      const l = evaluate(n.left, vars);
      const r = evaluate(n.right, vars);
      switch (n.op) {
        case '==':
          return l === r;
        case '!=':
          return l !== r;
      }
      const a = l as number;
      const b = r as number;
      switch (n.op) {
        case '<':
          return a < b;
        case '<=':
          return a <= b;
        case '>':
          return a > b;
        case '>=':
          return a >= b;
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return a / b;
        case '%':
          return a % b;
      }
    }
  }
}

/** A parsed, type-checked rule. The empty rule is always true. */
export class DefragRule {
  private constructor(
    readonly text: string,
    private readonly root: Node | undefined,
  ) {}

  /** Parses `text`; throws DefragRuleError (message without the `invalid --defrag-rule: ` prefix). */
  static parse(text: string): DefragRule {
    if (text.trim() === '') return new DefragRule(text, undefined);
    const root = new Parser(tokenize(text)).parseRule();
    if (typeOf(root) !== 'bool') throw new DefragRuleError('the rule is a number, not a condition');
    return new DefragRule(text, root);
  }

  get empty(): boolean {
    return this.root === undefined;
  }

  evaluate(vars: DefragRuleVars): boolean {
    return this.root === undefined ? true : (evaluate(this.root, vars) as boolean);
  }
}
