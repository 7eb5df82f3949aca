// The order in which the site's search lists pages for a query: Material for MkDocs' own search
// worker (site/assets/javascripts/workers/search.*.min.js, lunr inside) run in Node over the
// built index, as a browser runs it. Usage: node search_rank.js WORKER INDEX QUERY...
// Prints one JSON line per query: the page locations, best first.
"use strict";
const fs = require("fs");
const vm = require("vm");

const [worker, index, ...queries] = process.argv.slice(2);
let onMessage;
const replies = [];
const context = {
  console,
  setTimeout,
  addEventListener: (_type, handler) => { onMessage = handler; },
  postMessage: (message) => replies.push(message),
};
context.self = context;
vm.createContext(context);
vm.runInContext(fs.readFileSync(worker, "utf8"), context);
const data = JSON.parse(fs.readFileSync(index, "utf8"));

(async () => {
  // Message types of the worker: 0 setup, 1 ready, 2 query, 3 result.
  await onMessage({ data: { type: 0, data: { config: data.config, docs: data.docs, options: {} } } });
  for (const query of queries) {
    replies.length = 0;
    await onMessage({ data: { type: 2, data: query } });
    const result = replies.find((message) => message.type === 3);
    const pages = result.data.items.map((group) => group[0].location.split("#")[0]);
    console.log(JSON.stringify(pages));
  }
})();
