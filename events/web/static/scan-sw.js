// The door scanner's service worker (scope /scan): the page opens again without a network.
// The page itself puts its URL and files in the "scan" cache on every online visit
// (scan.js); this worker answers from that cache when the network cannot be reached.
// The page is fetched from the network first (a revoked door token's 401 removes the copy);
// the versioned static files (?v=<hash>) are served from the cache first.
"use strict";
var CACHE = "scan";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function fromNetworkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.status === 401 || response.status === 403) {
      caches.open(CACHE).then(function (c) { c.delete(request.url); });
    } else if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (c) { c.put(request.url, copy); });
    }
    return response;
  }, function () {
    return caches.open(CACHE).then(function (c) { return c.match(request.url); })
      .then(function (hit) { return hit || Response.error(); });
  });
}

function fromCacheFirst(request) {
  return caches.open(CACHE).then(function (c) {
    return c.match(request.url).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) c.put(request.url, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/scan" || url.pathname === "/scan.webmanifest") {
    event.respondWith(fromNetworkFirst(request));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fromCacheFirst(request));
  }
});
