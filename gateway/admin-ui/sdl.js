// What an extension contributes to the graph, read from its subgraph SDL in the browser:
// the types it defines or extends and their fields, arguments, types and directives.
// A small reader of GraphQL's type-system syntax (no dependency, so the page needs no
// GraphQL library). It skips comments and descriptions correctly (braces inside strings
// are text), keeps directives as written, and ignores `schema` and `directive` definitions.
// The gateway has already validated the SDL at publish: this only outlines it.

/**
 * @typedef {{ kind: string, value: string, start: number, end: number }} Token
 */

const PUNCTUATORS = new Set(['{', '}', '(', ')', '[', ']', ':', '=', '@', '!', '|', '&', '$']);

/** @param {string} source @returns {Token[]} */
function tokenize(source) {
  /** @type {Token[]} */
  const tokens = [];
  let i = 0;
  const length = source.length;
  while (i < length) {
    const c = source[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '\uFEFF') {
      i++;
    } else if (c === '#') {
      while (i < length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (c === '"') {
      const start = i;
      if (source.startsWith('"""', i)) {
        i += 3;
        while (i < length && !source.startsWith('"""', i)) i += source.startsWith('\\"""', i) ? 4 : 1;
        i += 3;
        tokens.push({ kind: 'string', value: blockString(source.slice(start + 3, Math.min(i, length) - 3)), start, end: Math.min(i, length) });
      } else {
        i++;
        let value = '';
        while (i < length && source[i] !== '"' && source[i] !== '\n') {
          if (source[i] === '\\' && i + 1 < length) {
            value += source[i + 1] === 'n' ? '\n' : source[i + 1];
            i += 2;
          } else {
            value += source[i];
            i++;
          }
        }
        i++;
        tokens.push({ kind: 'string', value, start, end: Math.min(i, length) });
      }
    } else if (c === '.' && source.startsWith('...', i)) {
      tokens.push({ kind: 'punct', value: '...', start: i, end: i + 3 });
      i += 3;
    } else if (PUNCTUATORS.has(c)) {
      tokens.push({ kind: 'punct', value: c, start: i, end: i + 1 });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < length && /[A-Za-z0-9_]/.test(source[i])) i++;
      tokens.push({ kind: 'name', value: source.slice(start, i), start, end: i });
    } else if (/[-0-9]/.test(c)) {
      const start = i;
      i++;
      while (i < length && /[0-9.eE+-]/.test(source[i])) i++;
      tokens.push({ kind: 'number', value: source.slice(start, i), start, end: i });
    } else {
      // Not GraphQL: keep it as a token so the reader never loops forever.
      tokens.push({ kind: 'punct', value: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

/** GraphQL's block string value: common indentation and blank first/last lines removed. */
function blockString(raw) {
  const lines = raw.replace(/\\"""/g, '"""').split(/\r\n|\n|\r/);
  let indent = Infinity;
  for (const line of lines.slice(1)) {
    const spaces = line.length - line.trimStart().length;
    if (line.trim() !== '' && spaces < indent) indent = spaces;
  }
  const out = lines.map((line, index) => (index === 0 || indent === Infinity ? line : line.slice(indent)));
  while (out.length > 0 && out[0].trim() === '') out.shift();
  while (out.length > 0 && out[out.length - 1].trim() === '') out.pop();
  return out.join('\n');
}

/**
 * @typedef {{ name: string, type: string, args: string, defaultValue: string, description: string, directives: string[] }} SdlField
 * @typedef {{ kind: string, name: string, extend: boolean, description: string, directives: string[], interfaces: string[],
 *   fields: SdlField[], values: Array<{ name: string, description: string, directives: string[] }>, members: string[] }} SdlType
 */

/**
 * Outlines the types of a subgraph SDL, in the order they appear.
 * @param {string} source
 * @returns {SdlType[]}
 */
export function outlineSdl(source) {
  const tokens = tokenize(source);
  let position = 0;
  const peek = (offset = 0) => tokens[position + offset];
  const next = () => tokens[position++];
  const is = (value, offset = 0) => tokens[position + offset]?.value === value && tokens[position + offset]?.kind !== 'string';
  /** The source text from token `from` to the last one read, on one line. */
  const textSince = (from) => (from >= position ? '' : source.slice(tokens[from].start, tokens[position - 1].end).replace(/\s+/g, ' ').trim());

  /** Skips a balanced (...), [...] or {...} group starting at the current token. */
  function skipGroup() {
    const open = next().value;
    const close = open === '(' ? ')' : open === '[' ? ']' : '}';
    let depth = 1;
    while (position < tokens.length && depth > 0) {
      const token = next();
      if (token.kind === 'string') continue;
      if (token.value === open) depth++;
      else if (token.value === close) depth--;
    }
  }

  function description() {
    return peek()?.kind === 'string' ? next().value : '';
  }

  function directives() {
    const list = [];
    while (is('@')) {
      const from = position;
      next();
      if (peek()?.kind === 'name') next();
      if (is('(')) skipGroup();
      list.push(textSince(from));
    }
    return list;
  }

  /** Name, [Type] and Type! in any nesting. */
  function readType() {
    if (is('[')) {
      next();
      readType();
      if (is(']')) next();
    } else if (peek()?.kind === 'name') {
      next();
    }
    if (is('!')) next();
  }

  function typeReference() {
    const from = position;
    readType();
    return textSince(from);
  }

  /** A constant value (default values): a balanced group or a single token. */
  function value() {
    const from = position;
    if (is('[') || is('{')) skipGroup();
    else next();
    return textSince(from);
  }

  /** field(args): Type = default @directives, as in object, interface and input types. */
  function fieldsBlock() {
    const fields = [];
    next(); // {
    while (position < tokens.length && !is('}')) {
      const start = position;
      const text = description();
      const name = peek()?.kind === 'name' ? next().value : undefined;
      let args = '';
      if (is('(')) {
        const from = position;
        skipGroup();
        args = textSince(from);
      }
      let type = '';
      if (is(':')) {
        next();
        type = typeReference();
      }
      let defaultValue = '';
      if (is('=')) {
        next();
        defaultValue = value();
      }
      const applied = directives();
      if (name !== undefined) fields.push({ name, type, args, defaultValue, description: text, directives: applied });
      if (position === start) next(); // not a field: never stall
    }
    if (is('}')) next();
    return fields;
  }

  function enumBlock() {
    const values = [];
    next(); // {
    while (position < tokens.length && !is('}')) {
      const start = position;
      const text = description();
      if (peek()?.kind === 'name') values.push({ name: next().value, description: text, directives: directives() });
      if (position === start) next();
    }
    if (is('}')) next();
    return values;
  }

  const types = [];
  while (position < tokens.length) {
    const start = position;
    const text = description();
    const extend = is('extend');
    if (extend) next();
    const keyword = peek()?.kind === 'name' ? peek().value : undefined;

    if (keyword === 'schema') {
      next();
      directives();
      if (is('{')) skipGroup();
    } else if (keyword === 'directive') {
      next();
      if (is('@')) next();
      if (peek()?.kind === 'name') next();
      if (is('(')) skipGroup();
      if (is('repeatable')) next();
      if (is('on')) {
        next();
        if (is('|')) next();
        if (peek()?.kind === 'name') next();
        while (is('|')) {
          next();
          if (peek()?.kind === 'name') next();
        }
      }
    } else if (['type', 'interface', 'input', 'enum', 'union', 'scalar'].includes(keyword ?? '')) {
      next();
      const name = peek()?.kind === 'name' ? next().value : '';
      const interfaces = [];
      if (is('implements')) {
        next();
        if (is('&')) next();
        while (peek()?.kind === 'name' && !is('implements')) {
          interfaces.push(next().value);
          if (is('&')) next();
          else break;
        }
      }
      /** @type {SdlType} */
      const type = { kind: keyword, name, extend, description: text, directives: directives(), interfaces, fields: [], values: [], members: [] };
      if (keyword === 'union' && is('=')) {
        next();
        if (is('|')) next();
        while (peek()?.kind === 'name') {
          type.members.push(next().value);
          if (is('|')) next();
          else break;
        }
      } else if (is('{')) {
        if (keyword === 'enum') type.values = enumBlock();
        else type.fields = fieldsBlock();
      }
      types.push(type);
    }
    if (position === start) next(); // something unexpected: skip it
  }
  return types;
}

/**
 * The fields an extension contributes, one row per field: `Type.field`.
 * Enum values and union members are listed as their type's members.
 * @param {SdlType[]} types
 */
export function contributedFields(types) {
  return types.flatMap((type) => type.fields.map((field) => ({ coordinate: `${type.name}.${field.name}`, type, field })));
}
