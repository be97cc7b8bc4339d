// Promise.withResolvers() arrived in Node 22. Several js-libp2p 3.x dependencies call it,
// so on Node 20 every script imports this module before anything from libp2p.
// ES modules are evaluated in import order, so `import './polyfill.mjs'` must be the
// first import of each entry script.

if (typeof Promise.withResolvers !== 'function') {
    Object.defineProperty(Promise, 'withResolvers', {
        configurable: true,
        writable: true,
        enumerable: false,
        value: function withResolvers() {
            let resolve;
            let reject;
            const promise = new this((res, rej) => {
                resolve = res;
                reject = rej;
            });
            return { promise, resolve, reject };
        },
    });
}
