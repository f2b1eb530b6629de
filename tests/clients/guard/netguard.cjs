// Preloaded into every node client the tests run (NODE_OPTIONS=--require): no connection and no
// name look-up may leave the machine. Each attempt fails (as if the network were down) and is
// written to $SEGWORK_NETGUARD_LOG, which the test reads and asserts empty.
"use strict";
const fs = require("fs");
const net = require("net");
const dns = require("dns");

const LOG = process.env.SEGWORK_NETGUARD_LOG;
const LOCAL = new Set(["localhost", "localhost.localdomain", "ip6-localhost"]);

function loopback(host) {
  if (host === undefined || host === null || host === "") return true; // node's default: localhost
  const h = String(host).replace(/^\[|\]$/g, "").split("%")[0].toLowerCase();
  return LOCAL.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::1" || h === "0:0:0:0:0:0:0:1" || h.startsWith("::ffff:127.");
}

function record(what, host) {
  if (LOG) fs.appendFileSync(LOG, `node pid ${process.pid}: ${what} '${host}'\n`);
  const err = new Error(`segwork test guard: ${what} to '${host}' refused (no traffic may leave the machine)`);
  err.code = "ENETUNREACH";
  return err;
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0]; // net.connect() passes its normalized arguments
  else if (typeof options !== "object" || options === null) options = { port: args[0], host: typeof args[1] === "string" ? args[1] : undefined };
  if (!options.path && !loopback(options.host)) {
    const err = record("connect", options.host);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function (hostname, ...rest) {
  if (!loopback(hostname)) {
    const err = record("name look-up", hostname);
    const callback = rest[rest.length - 1];
    if (typeof callback === "function") return process.nextTick(() => callback(err));
    throw err;
  }
  return lookup.call(this, hostname, ...rest);
};
const promisesLookup = dns.promises.lookup;
dns.promises.lookup = function (hostname, ...rest) {
  if (!loopback(hostname)) return Promise.reject(record("name look-up", hostname));
  return promisesLookup.call(this, hostname, ...rest);
};
