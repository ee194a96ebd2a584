// The hall board: follows the queue, shows the calls, chimes and speaks each new call.
import { REQUEST_TIMEOUT_MS, followQueue } from "./live.js";

const settings = JSON.parse(document.getElementById("board-settings").textContent);
const languages = Object.keys(settings.texts);
const nowNumber = document.getElementById("now-number");
const nowCounter = document.getElementById("now-counter");
const nowCall = document.getElementById("now-call");
const nobody = document.getElementById("nobody");
const previous = document.getElementById("previous-calls");
const offline = document.getElementById("offline");

// --- labels in each site language in turn ---------------------------------------------------
let languageIndex = 0;
function showLanguage(lang) {
  for (const element of document.querySelectorAll("[data-text]")) {
    element.textContent = settings.texts[lang][element.dataset.text];
    element.lang = lang;
    element.dir = settings.rtl.includes(lang) ? "rtl" : "ltr";
  }
}
if (languages.length > 1) {
  setInterval(() => {
    languageIndex = (languageIndex + 1) % languages.length;
    showLanguage(languages[languageIndex]);
  }, settings.rotateMs);
}

// --- sound: a chime, then the call in each chosen language, one call after another ----------
// Each call's sounds are fetched at once (spoken calls are made on the server on first use)
// and played in order; a call waiting behind two others keeps only its chime.
const pending = [];  // per call, the sounds (promises of blobs) to play in order
let playing = false;

function fetchSound(url) {
  // Timed out like every request: a sound that never arrives must not hold up the next calls.
  return fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    .then((response) => (response.ok ? response.blob() : null)).catch(() => null);
}

async function play(blob) {
  if (!blob) return;  // no voice on the server: the chime alone does
  const source = URL.createObjectURL(blob);
  const audio = new Audio(source);
  await new Promise((done) => {
    const stuck = setTimeout(done, 15000);  // a sound that never ends must not silence the next
    const finish = () => { clearTimeout(stuck); done(); };
    audio.onended = audio.onerror = finish;
    audio.play().catch(finish);  // autoplay refused: the board goes on without sound
  });
  audio.removeAttribute("src");
  audio.load();
  URL.revokeObjectURL(source);
}

async function playPending() {
  if (playing) return;
  playing = true;
  while (pending.length) {
    for (const sound of pending.shift()) await play(await sound);
  }
  playing = false;
}

function announce(call) {
  if (pending.length >= 2) pending[0] = pending[0].slice(0, 1);
  pending.push([settings.chimeUrl, ...settings.speak.map(
    (lang) => `${settings.speechBase}${lang}/${call.number}-${call.counter}.wav`)].map(fetchSound));
  playPending();
}

// --- the calls --------------------------------------------------------------------------------
let announced = null;  // calls already shown; null until the first look
const callKey = (call) => call.id;  // each call its own: calling the same number again is announced again
const counterName = (counter) => settings.counters[counter] ?? String(counter);

function render(queue) {
  const calls = queue.calls.slice(0, settings.callsShown);
  const latest = calls[0];
  nowCall.hidden = !latest;
  nobody.hidden = Boolean(latest);
  nowNumber.textContent = latest ? latest.number : "";
  nowCounter.textContent = latest ? counterName(latest.counter) : "";
  previous.replaceChildren(...calls.slice(1).map((call) => {
    const item = document.createElement("li");
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = call.number;
    const counter = document.createElement("span");
    counter.className = "counter";
    counter.textContent = `→ ${counterName(call.counter)}`;
    item.append(number, counter);
    return item;
  }));
  for (const service of queue.services) {
    const count = document.querySelector(`#waiting [data-service="${service.service}"] .count`);
    if (count) count.textContent = service.waiting;
  }

  const keys = new Set(queue.calls.map(callKey));
  if (announced !== null) {
    const fresh = queue.calls.filter((call) => !announced.has(callKey(call))).reverse();
    fresh.forEach(announce);
    if (fresh.length) {
      nowCall.classList.remove("fresh");
      void nowCall.offsetWidth;  // restart the highlight
      nowCall.classList.add("fresh");
    }
  }
  announced = keys;
}

// followQueue also refreshes every ten seconds without a change, in case one was missed.
followQueue(async () => {
  // A queue request that never answers must fail, so the offline notice can come up.
  const response = await fetch(settings.queueUrl, {
    cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`queue: HTTP ${response.status}`);
  render(await response.json());
}, {
  url: settings.versionUrl, interval: settings.pollMs,
  onOffline: () => { offline.hidden = false; },
  onOnline: () => { offline.hidden = true; },
});
