// The supervisors' live view: follows the queue version like the board, fetches the state when
// it moves, and counts the waits on between fetches, so the alarm goes on at its minute even
// when nothing else happens in the queue.
import { REQUEST_TIMEOUT_MS, followQueue } from "./live.js";

const root = document.getElementById("live");
const settings = root.dataset;
const texts = JSON.parse(settings.texts);
const $ = (selector) => document.querySelector(selector);
const alarm = $("#wait-alarm");
const offline = $("#live-offline");
let state = null;
let fetchedAt = 0;

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function cell(text, tag = "td") {
  const node = document.createElement(tag);
  if (tag === "th") node.scope = "row";
  node.textContent = text;
  return node;
}

function waited(seconds) {
  const node = cell(seconds === null ? "–" : duration(seconds));
  if (seconds !== null) { node.className = "waited"; node.dataset.since = seconds; }
  return node;
}

async function refresh() {
  const response = await fetch(settings.stateUrl, {
    cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    headers: { "Accept": "application/json", "X-Refresh": "auto" },
  });
  if (response.status === 401) {
    location.assign(`${settings.loginUrl}?next=${encodeURIComponent(location.pathname)}`);
    return;
  }
  if (!response.ok) throw new Error(`state: HTTP ${response.status}`);
  state = await response.json();
  fetchedAt = performance.now();
  render();
}

function render() {
  const waiting = state.services.reduce((sum, s) => sum + s.waiting, 0);
  $("#waiting-total").textContent = String(waiting);
  $("#services").replaceChildren(...state.services.map((s) => {
    const row = document.createElement("tr");
    row.dataset.service = s.service;
    row.append(cell(s.name, "th"), cell(String(s.waiting)), waited(s.oldest_wait_s));
    return row;
  }));
  $("#counters").replaceChildren(...state.counters.map((c) => {
    const row = document.createElement("tr");
    row.dataset.counter = c.number;
    row.className = c.open ? "open" : "closed";
    row.append(cell(c.name, "th"), cell(c.open ? texts.open : texts.closed), cell(c.services.join(", ")),
               cell(c.serving || texts.none));
    return row;
  }));
  $("#counters-open").textContent = `${state.counters.filter((c) => c.open).length} / ${state.counters.length}`;
  tick();
}

// Between fetches the waits grow by the time passed here; the server's figures correct them at
// the next fetch (at the latest after live.js's backstop of ten seconds).
function tick() {
  if (!state) return;
  const elapsed = (performance.now() - fetchedAt) / 1000;
  for (const node of document.querySelectorAll(".waited[data-since]")) {
    node.textContent = duration(Number(node.dataset.since) + elapsed);
  }
  const oldest = state.oldest_wait_s === null ? null : state.oldest_wait_s + elapsed;
  $("#longest-wait").textContent = oldest === null ? texts.nobody : duration(oldest);
  const on = state.alarm.on || (state.alarm.due_in_s !== null && elapsed >= state.alarm.due_in_s);
  const longest = state.services.reduce((a, s) => (s.oldest_wait_s !== null && (a === null || s.oldest_wait_s > a.oldest_wait_s) ? s : a), null);
  for (const row of document.querySelectorAll("#services tr")) {
    row.classList.toggle("too-long", on && longest !== null && row.dataset.service === longest.service);
  }
  if (on && longest !== null) {
    const text = texts.alarm.replace("{minutes}", String(Math.floor(oldest / 60))).replace("{service}", longest.name)
      .replace("{limit}", String(Math.round(state.alarm.threshold_s / 60)));
    // In whole minutes, written only when it changes: a screen reader reads an alert out anew each time.
    if (alarm.textContent !== text) alarm.textContent = text;
    alarm.hidden = false;
  } else {
    alarm.hidden = true;
    alarm.textContent = "";
  }
  document.body.classList.toggle("alarm-on", on);
}

setInterval(tick, 1000);
followQueue(refresh, {
  url: settings.versionUrl, interval: Number(settings.pollMs),
  onOffline: () => { offline.textContent = texts.offline; offline.hidden = false; },
  onOnline: () => { offline.hidden = true; },
});
