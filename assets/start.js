// Starts the page's own bundle: the wall at /, the field page at /field, the seat at /seat.
// A file of its own, not a script inside the page, so that the pages pass a
// Content-Security-Policy that allows no inline script.
const bundles = { "/field": "field", "/seat": "seat" };
const bundle = bundles[location.pathname] ?? "frontend";
const { default: init } = await import(`/pkg/${bundle}.js`);
await init();
