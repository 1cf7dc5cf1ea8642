// The door scanner. Talks to the JSON API with the door token from the pairing link.
// Online: every scan is POSTed to /checkins. Offline (or when the server cannot be reached):
// the ticket's Ed25519 signature is verified on the device with the check-in kit
// (docs/ticket-format.md), the scan is queued in localStorage and uploaded to
// /checkins/batch when the network is back (exactly once: each scan has a nonce, and leaves
// the queue only when the server has stored it); the queue survives a reload.
// The page works without a network once opened online: a service worker (/scan-sw.js)
// serves it from the cache this script fills. Every ticket the kit knows shows its name and
// state; scans go in or out (re-entry), a session door admits its session's people only.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("scan-config").textContent);
  var T = config.messages;
  var api = "/api/v1/events/" + config.event_id;
  var auth = { Authorization: "Bearer " + config.token };
  var queueKey = "scan-queue:" + config.event_id;
  var seenKey = "scan-seen:" + config.event_id;
  var kitKey = "scan-kit:" + config.event_id + ":" + (config.session_id || "event");
  var statsKey = "scan-stats:" + config.event_id + ":" + (config.session_id || "event");
  var device = localStorage.getItem("scan-device");
  if (!device) { device = "web-" + randomId(); localStorage.setItem("scan-device", device); }
  var kit = load(kitKey, null);
  var publicKey = null;
  var $ = function (id) { return document.getElementById(id); };
  var input = $("code");
  var showing = false;
  var hideTimer = null;

  function randomId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.from(a, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function load(key, fallback) {
    try { var v = JSON.parse(localStorage.getItem(key)); return v === null ? fallback : v; }
    catch (e) { return fallback; }
  }
  function save(key, value) { localStorage.setItem(key, JSON.stringify(value)); }
  function queue() { return load(queueKey, []); }
  function seen() { return load(seenKey, {}); }

  // --- the ticket code (format 1) ---------------------------------------------------------
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function normalise(text) { return text.replace(/\s+/g, "").toUpperCase(); }
  function base32(text) {
    if (!text || text.length > 160) return null;
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < text.length; i++) {
      var v = ALPHABET.indexOf(text[i]);
      if (v < 0) return null;
      value = (value << 5) | v; bits += 5;
      if (bits >= 8) { bits -= 8; out.push((value >> bits) & 0xff); }
    }
    if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return null; // canonical padding
    return new Uint8Array(out);
  }
  function varint(bytes, at) {
    var value = 0, mul = 1;
    for (var i = 0; i < 9 && at + i < bytes.length; i++) {
      var b = bytes[at + i];
      value += (b & 0x7f) * mul; mul *= 128;
      if (!(b & 0x80)) { if (b === 0 && i > 0) return null; return [value, at + i + 1]; }
    }
    return null;
  }
  function parse(code) {
    var bytes = base32(code);
    if (!bytes || bytes[0] !== 1) return null;
    var a = varint(bytes, 1); if (!a) return null;
    var b = varint(bytes, a[1]); if (!b) return null;
    var c = varint(bytes, b[1]); if (!c) return null;
    if (bytes.length - c[1] !== 64) return null;
    return { eventSeq: a[0], seq: b[0], version: c[0],
      payload: bytes.slice(0, c[1]), signature: bytes.slice(c[1]) };
  }
  function importKey() {
    if (!kit || !crypto.subtle) return Promise.resolve(null);
    return crypto.subtle.importKey("jwk", kit.public_key_jwk, { name: "Ed25519" }, false, ["verify"])
      .then(function (k) { publicKey = k; return k; }, function () { publicKey = null; return null; });
  }
  // What this device knows of a ticket's check-in at this door: the kit's, then its own.
  function state(seq) {
    var mine = seen()[String(seq)];
    if (mine) return mine;
    var k = kit && kit.checkins && kit.checkins[String(seq)];
    if (k) return { at: k.at, door: k.door, inside: k.inside };
    var at = kit && kit.checked_in && kit.checked_in[String(seq)];
    return at ? { at: at, door: "", inside: true } : null;
  }
  function direction() {
    var picked = document.querySelector("input[name=direction]:checked");
    return picked ? picked.value : "in";
  }
  function reentry() { return kit && kit.door ? kit.door.reentry : !!config.reentry; }
  function decide(seq, name, dir) {
    var st = kit.states && kit.states[String(seq)];
    if (st === "cancelled") return { result: "cancelled", name: name };
    if (st) return { result: "not_confirmed", name: name };
    var session = config.session_id;
    if (session && (kit.sessions[String(seq)] || []).indexOf(session) < 0)
      return { result: "wrong_session", name: name };
    var now = state(seq);
    if (dir === "out") {
      if (now && now.inside) return { result: "accepted", out: true, name: name, offline: true, seq: seq };
      return { result: "not_inside", name: name };
    }
    if (now && (now.inside || !reentry()))
      return { result: "already_checked_in", name: name, checked_in_at: now.at, door: now.door };
    return { result: "accepted", name: name, offline: true, seq: seq, first: !now };
  }
  function verifyOffline(code, dir) {
    var t = parse(code);
    if (!t || !kit) return Promise.resolve({ result: "invalid" });
    if (t.eventSeq !== kit.event_seq) return Promise.resolve({ result: "wrong_event" });
    var check = publicKey ? crypto.subtle.verify("Ed25519", publicKey, t.signature, t.payload)
      : Promise.resolve(false);
    return check.then(function (ok) {
      if (!ok) return { result: "invalid" };
      var chinese = (kit.chinese_names || {})[String(t.seq)];
      var name = kit.names[String(t.seq)] ? (chinese ? chinese + " · " : "") + kit.names[String(t.seq)] : T.new_registration;
      var reason = kit.revoked[code];
      if (reason === "cancelled") return { result: "cancelled", name: name };
      if (reason === "online") return { result: "online_attendee", name: name };
      if (reason) return { result: "invalid", name: kit.names[String(t.seq)] };
      if (kit.status === "cancelled") return { result: "cancelled", name: name };
      return decide(t.seq, name, dir || "in");
    }, function () { return { result: "invalid" }; });
  }
  // A move this device made or was told of: the first check-in keeps its time and door.
  function remember(seq, when, dir, door) {
    if (seq === undefined || seq === null) return;
    var s = seen(), key = String(seq), was = s[key] || state(seq);
    s[key] = was ? { at: was.at, door: was.door, inside: dir !== "out" }
      : { at: when, door: door || config.door || "", inside: dir !== "out" };
    save(seenKey, s);
  }

  // --- the network ------------------------------------------------------------------------
  function request(method, path, body, timeout) {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, timeout || 4000);
    var headers = Object.assign({ Accept: "application/json" }, auth);
    if (body) headers["Content-Type"] = "application/json";
    return fetch(api + path, { method: method, headers: headers, cache: "no-store",
      body: body ? JSON.stringify(body) : undefined, signal: ctrl.signal })
      .finally(function () { clearTimeout(timer); });
  }
  function refreshKit() {
    var headers = Object.assign({}, auth);
    if (kit && kit.etag) headers["If-None-Match"] = kit.etag;
    return fetch(api + "/checkin-kit", { headers: headers, cache: "no-store" }).then(function (r) {
      if (r.status === 401) { revoked(); return; }
      if (r.status === 200) {
        var etag = r.headers.get("ETag");
        return r.json().then(function (body) {
          body.etag = etag; kit = body; save(kitKey, kit); settle();
        });
      }
    }).catch(function () {}).then(importKey);
  }
  // What this device remembered and the kit now says too is the kit's from now on (so an
  // undo at the office, say, shows here once the kit has it).
  function settle() {
    if (queue().length) return;
    var s = seen(), kept = {};
    Object.keys(s).forEach(function (seq) {
      var k = kit.checkins && kit.checkins[seq];
      if (!k || k.inside !== s[seq].inside) kept[seq] = s[seq];
    });
    save(seenKey, kept);
  }
  function revoked() {
    localStorage.removeItem(kitKey); kit = null; publicKey = null;
    $("net").textContent = T.revoked_door; $("net").className = "offline";
  }
  // The counts: the server's last ones (kept on the device), plus the queued scans.
  function showStats() {
    var s = load(statsKey, null); if (!s) return;
    var first = 0, inside = 0;
    queue().forEach(function (q) {
      if (q.first) first += 1;
      inside += q.direction === "out" ? -1 : 1;
    });
    var scoped = s.session || null;
    var checked = (scoped ? scoped.checked_in : s.checked_in) + first;
    var expected = (scoped ? scoped.registered : s.confirmed) - checked;
    $("n-confirmed").textContent = scoped ? scoped.registered : s.confirmed;
    $("n-checked").textContent = checked;
    $("n-expected").textContent = Math.max(expected, 0);
    $("n-inside").textContent = (scoped ? scoped.inside : s.inside) + inside;
  }
  function refreshStats() {
    return request("GET", "/stats").then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) save(statsKey, s); showStats(); })
      .catch(function () { showStats(); });
  }
  var uploading = false;
  function upload() {
    var scans = queue();
    if (uploading || !scans.length || !navigator.onLine) return Promise.resolve();
    uploading = true;
    var sending = scans.slice(0, 500);
    var body = sending.map(function (s) {
      return { code: s.code, scanned_at: s.scanned_at, device: s.device, nonce: s.nonce,
        direction: s.direction || "in" };
    });
    return request("POST", "/checkins/batch", { scans: body }, 15000).then(function (r) {
      if (!r.ok) return;
      return r.json().then(function () {
        var sent = {}; sending.forEach(function (s) { sent[s.nonce] = true; });
        save(queueKey, queue().filter(function (s) { return !sent[s.nonce]; }));
        return refreshStats().then(refreshKit);
      });
    }).catch(function () {}).finally(function () { uploading = false; showNetwork(); });
  }
  function showNetwork() {
    var online = navigator.onLine;
    $("net").textContent = online ? T.online : T.offline;
    $("net").className = online ? "muted" : "offline";
    $("pending").textContent = queue().length;
    showStats();
  }

  // --- a scan -----------------------------------------------------------------------------
  function handle(raw) {
    var code = normalise(raw || "");
    if (!code) return Promise.resolve();
    var scannedAt = new Date().toISOString();
    var dir = direction();
    var online = navigator.onLine
      ? request("POST", "/checkins", { code: code, device: device, scanned_at: scannedAt,
          direction: dir })
        .then(function (r) {
          if (r.status === 401) revoked(); // the door token was revoked: no offline admits
          if (r.status >= 500 || r.status === 401 || r.status === 403) throw new Error("server");
          return r.json();
        })
      : Promise.reject(new Error("offline"));
    return online.then(function (body) {
      var reg = body.registration || {};
      var t = parse(code);
      if (body.result === "accepted" && t) remember(t.seq, body.checked_in_at, dir, body.door);
      show(body.result || "invalid", reg.name, body.checked_in_at, false, body.door, dir);
      refreshStats();
    }, function () {
      return verifyOffline(code, dir).then(function (v) {
        if (v.result === "accepted") {
          var q = queue();
          q.push({ code: code, scanned_at: scannedAt, device: device, nonce: randomId(),
            direction: dir, first: !!v.first });
          save(queueKey, q); remember(v.seq, scannedAt, dir); showNetwork();
        }
        show(v.result, v.name, v.checked_in_at, !!v.offline, v.door, dir);
      });
    });
  }

  var TONES = { good: [880, 0.15], warn: [440, 0.35], bad: [220, 0.6] };
  var audio = null;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = TONES[kind][0]; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + TONES[kind][1]);
    } catch (e) { /* no sound on this device */ }
  }
  function time(iso) {
    try {
      return new Date(iso).toLocaleTimeString(document.documentElement.lang,
        { hour: "2-digit", minute: "2-digit", timeZone: config.timezone });
    } catch (e) { return iso; }
  }
  function show(result, name, when, offline, door, dir) {
    var kind = result === "accepted" ? "good"
      : (result === "already_checked_in" || result === "not_confirmed" || result === "online_attendee" ||
         result === "not_inside") ? "warn" : "bad";
    var box = $("result");
    box.className = "result " + kind;
    box.dataset.result = result;
    box.dataset.direction = dir || "in";
    $("result-title").textContent = result === "accepted" && dir === "out" ? T.out_accepted
      : (T[result] || T.invalid);
    $("result-name").textContent = name || "";
    var detail = "";
    if (result === "already_checked_in" && when) {
      detail = door ? T.at_door.replace("%s", time(when)).replace("%s", door)
        : T.at.replace("%s", time(when));
    }
    if (offline) detail = T.offline_checked;
    $("result-detail").textContent = detail;
    box.hidden = false; showing = true;
    beep(kind);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(next, kind === "good" ? 1500 : 3500);
  }
  // The field is not emptied here: the submit did that, and a code being typed (by a
  // hand-held scanner, which types fast, or a person) when the result times out must stay.
  function next() {
    clearTimeout(hideTimer);
    $("result").hidden = true; showing = false;
    input.focus();
  }

  $("scan-form").addEventListener("submit", function (e) {
    e.preventDefault(); var v = input.value; input.value = ""; handle(v);
  });
  $("result-next").addEventListener("click", next);
  // a new direction: back to the code field, ready for the next ticket
  document.querySelectorAll("input[name=direction]").forEach(function (radio) {
    radio.addEventListener("change", function () { input.focus(); });
  });
  // Enter on an empty field dismisses the result; after a typed code it is the scanner's
  // Enter, which submits that code (its result replaces the one shown), never drops it.
  document.addEventListener("keydown", function (e) {
    if (!showing) return;
    if (e.key === "Escape" || (e.key === "Enter" && !input.value.trim())) {
      e.preventDefault(); next();
    }
  });

  // --- the camera -------------------------------------------------------------------------
  var lastCode = "", lastAt = 0, detector = null, canvas = null;
  // A ticket held in front of the camera is read about seven times a second: it counts once
  // while it stays in view, and again only after it has been out of view for 2.5 s.
  function found(code) {
    var now = Date.now();
    var stillInView = code === lastCode && now - lastAt < 2500;
    if (code === lastCode) lastAt = now;
    if (showing || stillInView) return;
    lastCode = code; lastAt = now; handle(code);
  }
  function loadJsQR() {
    if (window.jsQR) return Promise.resolve();
    return new Promise(function (ok, fail) {
      var s = document.createElement("script"); s.src = config.jsqr; s.onload = ok; s.onerror = fail;
      document.head.appendChild(s);
    });
  }
  function tick(video) {
    if (video.readyState >= 2) {
      if (detector) {
        detector.detect(video).then(function (codes) {
          if (codes.length) found(codes[0].rawValue);
        }).catch(function () {});
      } else if (window.jsQR) {
        var w = video.videoWidth, h = video.videoHeight;
        canvas = canvas || document.createElement("canvas");
        canvas.width = w; canvas.height = h;
        var ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, w, h);
        var hit = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
        if (hit && hit.data) found(hit.data);
      }
    }
    setTimeout(function () { requestAnimationFrame(function () { tick(video); }); }, 150);
  }
  function startCamera() {
    var video = $("video");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { alert(T.no_camera); return; }
    var ready = ("BarcodeDetector" in window)
      ? window.BarcodeDetector.getSupportedFormats().then(function (f) {
          if (f.indexOf("qr_code") >= 0) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          else return loadJsQR();
        }).catch(loadJsQR)
      : loadJsQR();
    ready.then(function () {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (stream) {
      video.srcObject = stream; $("scanbox").hidden = false;
      return video.play();
    }).then(function () { $("camera-btn").hidden = true; tick(video); })
      .catch(function () { alert(T.no_camera); });
  }
  $("camera-btn").addEventListener("click", startCamera);

  // --- look-up by name --------------------------------------------------------------------
  // A query folds as the server folds names (events/names.py): full-width to half-width,
  // lower case, separators to one space, and Traditional/variant characters to the
  // Simplified ones the kit's keys hold (kit.fold has exactly the characters needed).
  function fold(text) {
    var map = (kit && kit.fold) || {}, out = "";
    Array.from(text.normalize("NFKC").toLowerCase()).forEach(function (c) { out += map[c] || c; });
    return out.replace(/[\s\-\u2010-\u2014\u00b7\u30fb\uff65\u2027.,'\u2019]+/g, " ").trim();
  }
  function renderResults(items) {
    var list = $("search-results"); list.textContent = "";
    if (!items.length) { var li = document.createElement("li"); li.textContent = T.no_one; list.appendChild(li); return; }
    items.forEach(function (a) {
      var li = document.createElement("li"); li.className = "card";
      var p = document.createElement("p");
      p.textContent = (a.chinese_name ? a.chinese_name + " · " : "") + a.name + (a.email ? " · " + a.email : "");
      li.appendChild(p);
      if (a.attendance === "online") {
        var o = document.createElement("p"); o.className = "online-label";
        o.textContent = T.attends_online; li.appendChild(o);
      }
      if (a.checked_in_at) {
        var w = document.createElement("p"); w.textContent = T.at.replace("%s", time(a.checked_in_at)); li.appendChild(w);
      }
      if (a.ticket_code && !a.checked_in_at) {
        var b = document.createElement("button"); b.type = "button"; b.textContent = T.check_in;
        b.addEventListener("click", function () {
          handle(a.ticket_code).then(function () { $("search-form").requestSubmit(); });
        });
        li.appendChild(b);
      }
      list.appendChild(li);
    });
  }
  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("search").value.trim(); if (!q) return;
    request("GET", "/attendees?limit=20&q=" + encodeURIComponent(q)).then(function (r) {
      if (!r.ok) throw new Error("server"); return r.json();
    }).then(function (body) { renderResults(body.items || []); }, function () {
      var needle = fold(q), items = [];
      Object.keys((kit && kit.names) || {}).forEach(function (seq) {
        var key = (kit.search && kit.search[seq]) || fold(kit.names[seq]);
        if (key.indexOf(needle) >= 0 && items.length < 20) {
          var st = state(seq), gone = kit.states && kit.states[seq];
          var online = gone === "online";
          var label = gone && !online ? " (" + (gone === "cancelled" ? T.state_cancelled : gone) + ")" : "";
          items.push({ name: kit.names[seq] + label, chinese_name: (kit.chinese_names || {})[seq],
            attendance: online ? "online" : "in_person",
            checked_in_at: st && st.inside ? st.at : null,
            ticket_code: gone ? null : (kit.codes || {})[seq] });
        }
      });
      renderResults(items);
    });
  });

  // --- offline start: the service worker, and this page and its files in the cache ------
  function keepForOffline() {
    if (!("caches" in window) || !navigator.onLine) return Promise.resolve();
    // this page as opened, and as the installed app opens it (the manifest's start_url)
    var urls = [location.href, "/scan?token=" + encodeURIComponent(config.token), config.jsqr];
    document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=manifest]")
      .forEach(function (el) { urls.push(el.src || el.href); });
    return caches.open("scan").then(function (c) {
      return Promise.all(urls.map(function (u) {
        return fetch(u, { cache: "no-store", credentials: "same-origin" }).then(function (r) {
          if (r.ok) return c.put(u, r);
        }).catch(function () {});
      }));
    });
  }
  var offlineReady = Promise.resolve();
  if ("serviceWorker" in navigator) {
    offlineReady = navigator.serviceWorker.register("/scan-sw.js", { scope: "/scan" })
      .then(function () { return keepForOffline(); }).catch(function () {});
  }

  // --- a walk-in: registered and checked in at once (online only: it takes a seat) -------
  $("walkin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var name = $("walkin-name").value.trim(), email = $("walkin-email").value.trim();
    if (!name) return;
    var body = { name: name }; if (email) body.email = email;
    var headers = Object.assign({ "Content-Type": "application/json",
      "Idempotency-Key": randomId() }, auth);
    fetch(api + "/walk-ins", { method: "POST", headers: headers, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (answer) {
          if (r.status === 201) {
            var reg = answer, t = parse(reg.ticket ? reg.ticket.code : "");
            if (t) remember(t.seq, answer.checkin.checked_in_at, "in", answer.checkin.door);
            $("walkin-form").reset();
            show("accepted", reg.name, null, false, null, "in");
            refreshStats(); refreshKit();
          } else {
            var full = /event-full|session-full/.test(answer.type || "");
            show("invalid", name, null, false, null, "in");
            $("result-title").textContent = full ? T.event_full : (answer.detail || T.error);
          }
        });
      }).catch(function () { show("invalid", name, null, false, null, "in");
        $("result-title").textContent = T.error; });
  });

  window.addEventListener("online", function () { showNetwork(); upload(); });
  window.addEventListener("offline", showNetwork);
  showNetwork();
  importKey();
  refreshKit().then(upload);
  refreshStats();
  setInterval(function () { refreshStats(); upload(); }, 5000);
  setInterval(refreshKit, 60000);
  // for tests, scripts/bench (how long the device takes to verify a ticket) and diagnostics
  window.scanner = {
    handle: handle, pending: function () { return queue().length; }, upload: upload,
    verify: verifyOffline, ready: function () { return !!(kit && publicKey); },
    offlineReady: function () {
      return offlineReady.then(function () { return navigator.serviceWorker.ready; })
        .then(function () { return !!navigator.serviceWorker.controller; });
    }
  };
})();
