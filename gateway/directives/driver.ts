// The trusted half of a sandbox call: a script evaluated in each QuickJS context BEFORE
// any extension code. It captures the intrinsics it needs, freezes every object reachable
// from the global scope (so extension code can neither pollute prototypes, nor keep state
// on shared objects, nor subvert the driver), and returns the functions the host calls:
//   run(transform, inputJson, maxValueChars, maxCallChars) -> outputJson (one call; resets state)
//   progress() -> outputJson of the values done so far (read after an interrupt)
//   describe(error) -> a short string, never running for long (the interrupt still applies)
// Output JSON: {"n": values processed, "v": [value | null, ...], "f": [[index, kind, detail], ...]}
// with kind "error" | "memory" | "output". The host validates all of it again.
export const DRIVER_SOURCE = String.raw`(function () {
  'use strict';
  var G = globalThis;
  var parse = JSON.parse, stringify = JSON.stringify, apply = Reflect.apply, ownKeys = Reflect.ownKeys;
  var freeze = Object.freeze, isFrozen = Object.isFrozen, getProto = Object.getPrototypeOf;
  var describeProperty = Object.getOwnPropertyDescriptor;
  var ErrorC = Error, InternalErrorC = G.InternalError, slice = String.prototype.slice, arraySlice = Array.prototype.slice;

  function harden(root) {
    var stack = [root];
    while (stack.length > 0) {
      var o = stack.pop();
      if (o === null || (typeof o !== 'object' && typeof o !== 'function') || isFrozen(o)) continue;
      freeze(o);
      stack.push(getProto(o));
      var keys = ownKeys(o);
      for (var k = 0; k < keys.length; k++) {
        var d = describeProperty(o, keys[k]);
        if (d === undefined) continue;
        if ('value' in d) stack.push(d.value);
        else { stack.push(d.get); stack.push(d.set); }
      }
    }
  }
  function* generator() {}
  async function asyncFunction() {}
  async function* asyncGenerator() {}
  harden(G);
  harden(generator); harden(asyncFunction); harden(asyncGenerator);
  harden(getProto([][Symbol.iterator]()));
  harden(getProto(new Map()[Symbol.iterator]()));
  harden(getProto(new Set()[Symbol.iterator]()));
  harden(getProto(''[Symbol.iterator]()));
  harden(getProto(/x/[Symbol.matchAll]('')));

  function clip(text) { return text.length > 300 ? apply(slice, text, [0, 300]) + '...' : text; }
  function describe(e) {
    try {
      if (typeof e === 'string') return clip('threw a string: ' + e);
      if (e !== null && typeof e === 'object' && e instanceof ErrorC) {
        var name = e.name, message = e.message;
        return clip((typeof name === 'string' ? name : 'Error') + ': ' + (typeof message === 'string' ? message : ''));
      }
      return 'threw a non-error value (' + (e === null ? 'null' : typeof e) + ')';
    } catch (_) {
      return 'threw a value that cannot be described';
    }
  }
  function kindOf(e) {
    try {
      if (InternalErrorC !== undefined && e instanceof InternalErrorC && e.message === 'out of memory') return 'memory';
    } catch (_) { /* a hostile value: an ordinary error */ }
    return 'error';
  }

  // After harden() no setter can sit on a prototype: plain assignments are safe from here on.
  var values = [], fails = [], next = 0;
  function fail(i, kind, detail) {
    values[i] = null;
    fails.push([i, kind, detail]);
  }
  function progress() {
    var done = values.length > next ? next : values.length;
    return stringify({ n: done, v: done === values.length ? values : apply(arraySlice, values, [0, done]), f: fails });
  }
  function run(transform, input, maxValueChars, maxCallChars) {
    values = [];
    fails = [];
    next = 0;
    var request = parse(input);
    var inputs = request.values, args = request.args, argOf = request.argOf, contexts = request.contexts, contextOf = request.contextOf;
    for (var a = 0; a < args.length; a++) harden(args[a]);
    for (var c = 0; c < contexts.length; c++) harden(contexts[c]);
    if (typeof transform !== 'function') throw new TypeError('the module does not export a function named transform');
    var total = 0, n = inputs.length;
    for (var i = 0; i < n; i++) {
      next = i;
      try {
        var result = transform(inputs[i], args[argOf[i]], contexts[contextOf[i]]);
        var type = typeof result, size;
        if (result === undefined || result === null) { values[i] = null; continue; }
        if (type === 'string') size = result.length + 2;
        else if (type === 'number') { if (result !== result || result === Infinity || result === -Infinity) { fail(i, 'output', 'returned a number JSON cannot represent'); continue; } size = 24; }
        else if (type === 'boolean') size = 5;
        else if (type === 'object' && typeof result.then === 'function') { fail(i, 'error', 'returned a promise: a transform returns its result synchronously'); continue; }
        else {
          var json = stringify(result);
          if (typeof json !== 'string') { fail(i, 'output', 'returned a value JSON cannot represent (a function or a symbol)'); continue; }
          size = json.length;
          if (size <= maxValueChars) result = parse(json); // a plain copy: no getter runs again
        }
        if (size > maxValueChars) fail(i, 'output', 'returned ' + size + ' characters, more than the limit of ' + maxValueChars);
        else if (total + size > maxCallChars) fail(i, 'output', 'the outputs of this call exceed the limit of ' + maxCallChars + ' characters');
        else { total += size + 1; values[i] = result; }
      } catch (e) {
        fail(i, kindOf(e), describe(e));
      }
    }
    next = n;
    return progress();
  }
  return freeze({ run: run, progress: progress, describe: describe });
})()`;
