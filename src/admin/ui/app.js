// recmock dashboard: live regions redrawn from the change feed (server-sent events), the virtual clock in
// the header, and the buttons and forms that call the control plane's JSON API. No library, no build.
"use strict";
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const topics = (document.body.dataset.live || "").split(",").filter(Boolean);

  // ----- the clock in the header ------------------------------------------------------------------------
  const clockEl = $("#clock");
  let clock = null; // {now_ms, frozen, scale, at: wall ms when read}
  const beijing = (ms) =>
    new Date(ms).toLocaleString("sv-SE", { timeZone: "Asia/Shanghai", hour12: false });
  function setClock(c) {
    if (!c) return;
    clock = { now_ms: c.now_ms, frozen: c.frozen, scale: c.scale, at: Date.now() };
    drawClock();
  }
  function drawClock() {
    if (!clock || !clockEl) return;
    const now = clock.frozen ? clock.now_ms : clock.now_ms + (Date.now() - clock.at) * clock.scale;
    const how = clock.frozen ? "frozen" : clock.scale === 1 ? "running" : "running ×" + clock.scale;
    clockEl.textContent = beijing(now) + " Beijing · " + how;
    clockEl.dataset.nowMs = String(Math.floor(now));
  }
  if (clockEl && clockEl.dataset.nowMs) {
    setClock({
      now_ms: Number(clockEl.dataset.nowMs),
      frozen: clockEl.dataset.frozen === "true",
      scale: Number(clockEl.dataset.scale || 1),
    });
  }
  setInterval(() => { if (clock && !clock.frozen && !document.hidden) drawClock(); }, 1000);

  // ----- live regions -----------------------------------------------------------------------------------
  let refreshing = false, again = false, timer = null;
  function liveTailOn() {
    const box = $("#live-tail");
    return !box || box.checked;
  }
  function schedule() {
    if (timer) return;
    timer = setTimeout(() => { timer = null; refresh(); }, 250);
  }
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const r = await fetch(location.href, { headers: { "X-Recmock-Live": "1" }, credentials: "same-origin" });
      if (r.ok) {
        const doc = new DOMParser().parseFromString(await r.text(), "text/html");
        for (const el of $$("[data-region]")) {
          const fresh = doc.getElementById(el.id);
          if (fresh && fresh.innerHTML !== el.innerHTML) el.innerHTML = fresh.innerHTML;
        }
        const c = $("#clock", doc);
        if (c) setClock({ now_ms: Number(c.dataset.nowMs), frozen: c.dataset.frozen === "true", scale: Number(c.dataset.scale) });
        document.dispatchEvent(new Event("recmock:refreshed"));
      }
    } catch (_) { /* the next change tries again */ }
    refreshing = false;
    if (again) { again = false; schedule(); }
  }

  let source = null;
  const dot = $("#live-dot");
  function connect() {
    if (source || document.hidden) return;
    source = new EventSource("/__admin/ui/events");
    source.addEventListener("open", () => { if (dot) { dot.classList.add("on"); dot.title = "live"; } });
    source.addEventListener("error", () => { if (dot) { dot.classList.remove("on"); dot.title = "reconnecting"; } });
    source.addEventListener("change", (e) => {
      let d;
      try { d = JSON.parse(e.data); } catch (_) { return; }
      if (d.clock) setClock(d.clock);
      const hit = d.missed || d.topics.some((t) => topics.includes(t));
      if (hit && liveTailOn()) schedule();
    });
  }
  function disconnect() {
    if (source) { source.close(); source = null; }
    if (dot) { dot.classList.remove("on"); dot.title = "paused while hidden"; }
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) disconnect();
    else { connect(); if (topics.length) schedule(); }
  });
  connect();

  // ----- calls to the control plane ---------------------------------------------------------------------
  const flash = $("#flash");
  function say(text, bad) {
    if (!flash) return;
    flash.textContent = text;
    flash.className = bad ? "bad" : "ok";
  }
  async function call(method, path, body) {
    const init = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const r = await fetch(path, init);
    let json = null;
    try { json = await r.json(); } catch (_) { /* not JSON */ }
    return { ok: r.ok, status: r.status, json };
  }
  async function act(method, path, body, done) {
    const r = await call(method, path, body);
    if (r.ok) say(done || method + " " + path + ": done");
    else say((r.json && r.json.error) || "HTTP " + r.status, true);
    refresh();
    return r;
  }
  const unit = { s: 1, min: 60, h: 3600 };
  const handlers = {
    advance: (f) => {
      const seconds = Number(f.elements.amount.value) * unit[f.elements.unit.value];
      return act("POST", "/__admin/clock/advance", { seconds }, "advanced " + f.elements.amount.value + " " + f.elements.unit.value);
    },
    scale: (f) => act("POST", "/__admin/clock", { scale: Number(f.elements.scale.value) }, "scale set"),
    freeze: (b) => act("POST", "/__admin/clock", { frozen: b.dataset.frozen === "true" }, b.dataset.frozen === "true" ? "clock frozen" : "clock running"),
    next: (b) => act("POST", "/__admin/clock", { now: Number(b.dataset.at) / 1000 }, "advanced to the next job"),
    reset: (b) => {
      const t = b.dataset.tenant;
      if (!confirm(t ? "Reset tenant " + t + "?" : "Reset the whole world?")) return;
      return act("POST", "/__admin/reset" + (t ? "?tenant=" + encodeURIComponent(t) : ""), {}, t ? "tenant reset" : "world reset");
    },
    redeliver: async (b) => {
      const r = await act("POST", "/__admin/callbacks/" + encodeURIComponent(b.dataset.id) + "/redeliver", {}, "redelivering " + b.dataset.id);
      // A frozen clock runs nothing by itself: an advance by 0 runs the attempt now.
      if (r.ok && clock && clock.frozen) await act("POST", "/__admin/clock/advance", { seconds: 0 }, "redelivered " + b.dataset.id);
    },
    "fault-remove": (b) => act("DELETE", "/__admin/faults/" + encodeURIComponent(b.dataset.id), undefined, "rule removed"),
    "faults-clear": () => confirm("Remove every fault rule?") && act("DELETE", "/__admin/faults", undefined, "rules removed"),
    "journal-clear": () => confirm("Empty the request journal?") && act("DELETE", "/__admin/requests", undefined, "journal emptied"),
    "fault-add": (f) => {
      const e = f.elements, when = {}, action = {}, rule = { match: when, action };
      if (e.raw.value.trim()) {
        return act("POST", "/__admin/faults", e.raw.value, "rule added").then((r) => { if (r.ok) location.reload(); });
      }
      for (const k of ["target", "vendor", "method", "path"]) if (e[k].value) when[k] = e[k].value;
      for (const k of ["error_code", "http_status", "latency_ms"]) if (e[k].value) action[k] = Number(e[k].value);
      for (const k of ["error_msg", "body"]) if (e[k].value) action[k] = e[k].value;
      if (e.drop.checked) action.drop = true;
      if (e.times.value) rule.times = Number(e.times.value);
      return act("POST", "/__admin/faults", rule, "rule added").then((r) => { if (r.ok) location.reload(); });
    },
    fixture: async (f, submitter) => {
      const text = await textOf(f);
      if (text === null) return;
      const dry = submitter && submitter.value === "check";
      const out = $("#fixture-result");
      const r = await call("POST", "/__admin/fixtures?name=dashboard" + (dry ? "&dry_run=true" : ""), text);
      out.replaceChildren();
      if (r.ok) {
        out.className = "ok";
        out.textContent = dry ? "The fixture is valid." : "Loaded: " + ((r.json.loaded && r.json.loaded.tenants) || []).join(", ");
        return;
      }
      out.className = "bad";
      const head = document.createElement("p");
      head.textContent = (r.json && r.json.error) || "HTTP " + r.status;
      out.append(head);
      const errs = (r.json && r.json.errors) || [];
      if (errs.length) {
        const ul = document.createElement("ul");
        ul.className = "errors";
        for (const x of errs) {
          const li = document.createElement("li");
          const code = document.createElement("code");
          code.className = "path";
          code.textContent = x.path || "(document)";
          li.append(code, " " + x.message);
          ul.append(li);
        }
        out.append(ul);
      }
    },
    restore: async (f) => {
      const text = await textOf(f);
      if (text === null) return;
      if (!confirm("Replace the whole world with this dump?")) return;
      const r = await act("PUT", "/__admin/state", text, "world restored");
      $("#restore-result").textContent = r.ok ? "Restored." : (r.json && r.json.error) || "HTTP " + r.status;
    },
  };
  async function textOf(f) {
    const file = f.elements.file && f.elements.file.files[0];
    const text = file ? await file.text() : f.elements.text.value;
    if (!text.trim()) { say("paste a document or choose a file", true); return null; }
    return text;
  }
  document.addEventListener("submit", (ev) => {
    const f = ev.target;
    const h = handlers[f.dataset.do];
    if (!h) return;
    ev.preventDefault();
    h(f, ev.submitter);
  });
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-do]");
    if (b && handlers[b.dataset.do] && !b.form) { ev.preventDefault(); handlers[b.dataset.do](b); }
    const c = ev.target.closest("button[data-copy]");
    if (c) {
      const src = document.getElementById(c.dataset.copy);
      const text = src ? src.textContent : "";
      const done = () => say("copied to the clipboard");
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => select(src));
      else select(src);
    }
  });
  function select(el) {
    if (!el) return;
    const range = document.createRange();
    range.selectNodeContents(el);
    const s = getSelection();
    s.removeAllRanges();
    s.addRange(range);
    say("selected: press Ctrl+C to copy");
  }
  const tail = $("#live-tail");
  if (tail) tail.addEventListener("change", () => { if (tail.checked) refresh(); });
})();
