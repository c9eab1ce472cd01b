// js-ipfs 0.18 (package ipfs@0.66) has dependencies that call Promise.withResolvers, which
// Node gained only in 22; loaded with `node --require` before the daemon under Node 20.
'use strict';
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => { resolve = res; reject = rej; });
      return { promise, resolve, reject };
    }
  });
}
