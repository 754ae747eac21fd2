// @mask(keep: Int = 4): every character of the string but the last `keep` becomes "*".
// Runs in the gateway's sandbox (QuickJS): plain JavaScript, no imports, no I/O.
const SURROGATES = /[\uD800-\uDFFF]/;

// One batch shares one arguments object: work `keep` out once per object.
let lastArgs;
let lastKeep = 4;

export function transform(value, args) {
  if (typeof value !== 'string') throw new TypeError('@mask applies to String fields');
  if (args !== lastArgs) {
    lastArgs = args;
    lastKeep = Math.max(0, Math.floor(Number(args.keep ?? 4)) || 0);
  }
  const keep = lastKeep;
  if (!SURROGATES.test(value)) {
    return value.length <= keep ? value : '*'.repeat(value.length - keep) + value.slice(value.length - keep);
  }
  // Characters outside the Basic Multilingual Plane count as one character, not two.
  const characters = Array.from(value);
  if (characters.length <= keep) return value;
  return '*'.repeat(characters.length - keep) + characters.slice(characters.length - keep).join('');
}
