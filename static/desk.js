// The clerk's desk: follows the queue, renders the desk state, sends actions with the
// clerk's session (CSRF token in a header). Shortcut keys work when no field has focus.
import { followQueue } from "./live.js";

const settings = JSON.parse(document.getElementById("desk-settings").textContent);
const texts = settings.texts;
const $ = (selector) => document.querySelector(selector);
const message = $("#message");
let state = null;
let fetchedAt = 0;
let revealed = null;  // {id, name, national_number} after "show in full", for that ticket only
let handover = null;  // the ticket whose "was the card handed over?" is asked

const fill = (text, values) => text.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");

function say(text, isError = false) {
  message.textContent = text;
  message.classList.toggle("error", isError);
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

// --- talking to the server ----------------------------------------------------------------------
// Every request gives up in time so a hung server cannot hold the desk; longer than the
// printer's own deadline (3 s), so a slow reprint still gets its answer.
const TIMEOUT_MS = 10000;

async function send(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST", signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { "Accept": "application/json", "Content-Type": "application/json",
                 "X-CSRFToken": settings.csrfToken },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {  // offline, refused or timed out
    say(fill(texts.failed, { reason: texts.offline }), true);
    return null;
  }
  if (response.status === 401) { signIn(); return null; }
  // A proxy's error page or a cut-off body is not JSON: still tell the clerk.
  const data = response.status === 204 ? null : await response.json().catch(() => undefined);
  if (!response.ok || data === undefined) {
    const reason = data?.message ?? (response.statusText || `HTTP ${response.status}`);
    say(fill(texts.failed, { reason }), true);
    return null;
  }
  return { status: response.status, data };
}

function signIn() {
  location.assign(`${settings.loginUrl}?next=${encodeURIComponent(location.pathname)}`);
}

async function refresh() {
  const response = await fetch(settings.stateUrl, {
    cache: "no-store", signal: AbortSignal.timeout(TIMEOUT_MS),
    headers: { "Accept": "application/json", "X-Refresh": "auto" },
  });
  if (response.status === 401) { signIn(); return; }
  if (!response.ok) throw new Error(`state: HTTP ${response.status}`);
  state = await response.json();
  // The page's forms (Sign out) get the fresh token too: a token expires after an hour.
  settings.csrfToken = state.csrf_token;
  for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = state.csrf_token;
  fetchedAt = performance.now();
  render();
}

// --- rendering -----------------------------------------------------------------------------------
function renderServed() {
  for (const label of document.querySelectorAll(".counter-services [data-service]")) {
    const service = label.dataset.service;
    label.hidden = !state.counter.may_serve.includes(service);
    label.querySelector("input").checked = state.counter.services.includes(service);
  }
  $("#counter-state").textContent = state.counter.open ? texts.open : texts.closed;
  $("#close-counter").hidden = !state.counter.open;
}

function waited(seconds) {
  const node = element("span", { className: "waited", textContent: duration(seconds) });
  node.dataset.since = seconds;
  return node;
}

function renderWaiting() {
  $("#waiting-lists").replaceChildren(...state.waiting.filter((s) => s.served || s.count).map((service) =>
    element("section", { className: service.served ? "service served" : "service" },
      element("h3", {}, element("span", { textContent: service.name }),
        element("span", { className: "count", textContent: String(service.count) })),
      element("ol", { className: "waiting-list" }, ...service.tickets.map((ticket) =>
        element("li", { className: ticket.priority ? "priority" : "" },
          element("span", { className: "number", textContent: ticket.number }),
          waited(ticket.waited_s)))))));
}

function renderParked() {
  $("#parked").replaceChildren(...state.parked.map((ticket) => {
    const button = element("button", {
      type: "button", className: "button", textContent: fill(texts.returnTo, { number: ticket.number }),
    });
    button.addEventListener("click", () => act(ticket.id, "return"));
    return element("li", {},
      element("span", { className: "number", textContent: ticket.number }),
      element("span", { className: "service", textContent: ticket.service_name }),
      waited(ticket.waited_s), button);
  }));
}

function setField(name, value) {
  const row = document.querySelector(`#checkin [data-field="${name}"]`);
  const empty = value === null || value === undefined || value === "" ||
                (Array.isArray(value) && value.length === 0);
  row.hidden = empty;
  const dd = row.querySelector("dd");
  if (Array.isArray(value)) {
    dd.replaceChildren(element("ul", {}, ...value.map((item) => element("li", { textContent: item }))));
  } else {
    dd.textContent = empty ? "" : value;
  }
}

function renderCurrent() {
  const current = state.current;
  $("#current").hidden = !current;
  $("#current-empty").hidden = Boolean(current);
  const status = current?.status;
  const enable = {
    recall: status === "called", finish: Boolean(current), "no-show": status === "called",
    park: Boolean(current), reprint: Boolean(current), transfer: Boolean(current),
  };
  for (const [action, on] of Object.entries(enable)) $(`[data-action="${action}"]`).disabled = !on;
  $("#transfer-service").disabled = !current;
  $("#checkin").hidden = !current;
  if (!current) { revealed = null; $("#handover").hidden = true; return; }
  if (revealed && revealed.id !== current.id) revealed = null;
  $("#current-number").textContent = current.number;
  $("#current-status").textContent = texts.status[status] ?? status;
  $("#current-service").textContent = current.service_name;
  $("#current-language").textContent = current.language_name;
  $("#current-language").lang = current.language;

  const c = current.checkin;
  setField("notes", c.notes);
  setField("visit", c.visit_name ?? texts.unchecked);
  setField("pickup", c.pickup ? [c.pickup.storage, c.pickup.card_number &&
    fill(texts.cardNumber, { number: c.pickup.card_number })].filter(Boolean).join(" — ") : null);
  const cardLine = c.card ? `${c.card.type ?? ""} (${c.card.expired ? texts.expired : texts.valid})` : null;
  setField("card", c.card && c.card_checks?.length ? [cardLine, ...c.card_checks] : cardLine);  // the kiosk's check of it
  setField("lost_card", c.lost_card ? texts.yes : null);
  setField("name", revealed ? revealed.name : c.name);
  setField("national_number", revealed ? revealed.national_number : c.national_number);
  setField("age", c.age === null ? null : fill(texts.ageYears, { age: c.age }));
  setField("pin_tries_left", c.pin_tries_left === null ? null : fill(texts.triesLeft, { count: c.pin_tries_left }));
  setField("confirmed", c.confirmed);
  setField("missing", c.missing);
  setField("code_request", c.code_request ? [c.code_request.told ? fill(texts.codeRequest, c.code_request) : c.code_request.id,
    c.code_request.state_name]
    .filter(Boolean).join(" — ") : null);
  $('[data-action="order-codes"]').hidden = c.code_request?.state !== "requested";
  if (handover !== current.id) $("#handover").hidden = true;
  $('[data-action="disclose"]').hidden = revealed !== null || !(c.name || c.national_number);
}

function render() {
  renderServed();
  renderWaiting();
  renderParked();
  renderCurrent();
  renderAlarm(0);
}

// The office's wait alarm (the profile's wait_alarm_minutes), as on the supervisors' live view:
// on once anyone on this desk's lists has waited that long, counted on between fetches.
function renderAlarm(elapsed) {
  const oldest = Math.max(-1, ...state.waiting.flatMap((s) => s.tickets.map((t) => t.waited_s)));
  const on = oldest >= 0 && oldest + elapsed >= state.wait_alarm_s;
  const alarm = $("#wait-alarm");
  const text = on ? fill(texts.waitAlarm, { minutes: Math.floor((oldest + elapsed) / 60) }) : "";
  if (alarm.textContent !== text) alarm.textContent = text;
  alarm.hidden = !on;
}

// Waiting times tick between fetches, counted from what the server said.
setInterval(() => {
  if (!state) return;
  const elapsed = (performance.now() - fetchedAt) / 1000;
  for (const node of document.querySelectorAll(".waited[data-since]")) {
    node.textContent = duration(Number(node.dataset.since) + elapsed);
  }
  renderAlarm(elapsed);
}, 1000);

// --- actions -------------------------------------------------------------------------------------
async function act(ticketId, action, body) {
  const result = await send(`${settings.ticketApi}/${ticketId}/${action}`, body);
  if (result) say(fill(texts.done, { number: result.data.number }));
  await refresh();
}

// The ticket this desk called last and when: Call next again within a moment is the same
// press (a double click, N twice), not "finish them and call the next one".
let lastCall = null;

const actions = {
  "call-next": async () => {
    const current = state?.current?.id ?? null;
    if (current !== null && lastCall?.id === current && performance.now() - lastCall.at < settings.samePressMs) {
      return;
    }
    // Names the ticket this screen shows: if the counter moved on meanwhile (another tab, a
    // second desk), the server refuses instead of finishing a citizen who was just called.
    const result = await send(`${settings.counterApi}/call-next`, { current });
    if (result?.status === 204) say(texts.nobodyWaiting);
    else if (result) {
      lastCall = { id: result.data.id, at: performance.now() };
      say(fill(texts.called, { number: result.data.number }));
    }
    await refresh();
  },
  recall: () => act(state.current.id, "recall"),
  // A new card from the register: asked first whether it was handed over, so the register
  // (and the kiosk) know it is no longer waiting.
  finish: async () => {
    const current = state.current;
    if (current.checkin.pickup?.card_number && $("#handover").hidden) {
      handover = current.id;
      $("#handover").hidden = false;
      $('[data-action="handed-over"]').focus();
      return;
    }
    await act(current.id, "finish");
  },
  "handed-over": async () => {
    const current = state.current;
    const result = await send(`${settings.deskTickets}/${current.id}/handed-over`);
    if (!result) return;
    $("#handover").hidden = true;
    await act(current.id, "finish");
    const number = result.data.card_number;
    say(fill(result.data.collected ? texts.handedOver : texts.notInRegister, { number }), !result.data.collected);
  },
  "not-handed-over": async () => {
    $("#handover").hidden = true;
    await act(state.current.id, "finish");
  },
  "order-codes": async () => {
    const result = await send(`${settings.codeRequestApi}/${state.current.checkin.code_request.id}/ordered`);
    if (result) say(texts.ordered);
    await refresh();
  },
  "no-show": () => act(state.current.id, "no-show"),
  park: () => act(state.current.id, "park"),
  transfer: () => act(state.current.id, "transfer", { service: $("#transfer-service").value }),
  reprint: async () => {
    const result = await send(`${settings.deskTickets}/${state.current.id}/reprint`);
    if (result) say(result.data.printed ? texts.reprinted : fill(texts.notPrinted, { reason: result.data.reason }),
                    !result.data.printed);
  },
  disclose: async () => {
    const id = state.current.id;
    const result = await send(`${settings.deskTickets}/${id}/disclose`);
    if (result) { revealed = { id, ...result.data }; renderCurrent(); }
  },
};

let busy = false;
async function run(action) {
  const button = $(`[data-action="${action}"]`);
  if (busy || !button || button.disabled || button.closest("[hidden]")) return;
  busy = true;  // one action at a time: a double press must not call two tickets
  button.disabled = true;  // and the button shows it while its request is out
  try {
    await actions[action]();
  } finally {
    busy = false;
    if (["call-next", "handed-over", "not-handed-over", "order-codes"].includes(action)) button.disabled = false;
    else if (state) renderCurrent();  // the ticket's buttons as its state allows
  }
}

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => run(button.dataset.action));
}

const SHORTCUTS = { n: "call-next", r: "recall", f: "finish", x: "no-show", p: "park", d: "reprint", s: "disclose" };
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
  if (event.target.closest("input, select, textarea")) return;
  const key = event.key.toLowerCase();
  if (key === "t") { event.preventDefault(); $("#transfer-service").focus(); return; }
  if (SHORTCUTS[key]) { event.preventDefault(); run(SHORTCUTS[key]); }
});

// --- the counter's services ------------------------------------------------------------------------
for (const box of document.querySelectorAll('.counter-services input[name="served"]')) {
  box.addEventListener("change", async () => {
    const services = [...document.querySelectorAll('.counter-services input[name="served"]:checked')].map((b) => b.value);
    if (!services.length) { say(texts.needOneService, true); box.checked = true; return; }
    await send(`${settings.counterApi}/open`, { services });
    await refresh();
  });
}
$("#close-counter").addEventListener("click", async () => {
  await send(`${settings.counterApi}/close`);
  await refresh();
});

// A quiet queue still gets a fresh look (and a fresh CSRF token) every few minutes.
setInterval(() => refresh().catch(() => {}), 5 * 60 * 1000);

followQueue(refresh, {
  url: settings.versionUrl, interval: settings.pollMs,
  onOffline: () => say(texts.offline, true), onOnline: () => say(""),
});
