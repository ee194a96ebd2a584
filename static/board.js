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
// Played from the server's own addresses: the page's Content-Security-Policy lets media come
// from 'self' only (no blob: URLs). Spoken calls are made on the server on first use, so each
// is asked for ahead, while the chime plays; one request at a time per board, so a board never
// holds more than one server thread, and a busy answer (503) is asked again after its
// Retry-After. A call waiting behind two others keeps only its chime.
const SPEECH_PATIENCE_MS = 10000;  // a spoken call not made by then is left out, the chime stays
const pending = [];  // per call, the sounds to play in order: {url, ready: promise of true/false}
let playing = false;
let asking = Promise.resolve();  // the last spoken call asked for: the next one waits for it

const pause = (ms) => new Promise((done) => setTimeout(done, ms));

async function made(url) {
  // Whether the server has the sound: no (404) without espeak-ng, or when it stays busy.
  const giveUp = Date.now() + SPEECH_PATIENCE_MS;
  for (;;) {
    let response;
    try {
      // Timed out like every request: a sound that never arrives must not hold up the next calls.
      response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await response.arrayBuffer();  // read to the end: the browser's cache then has it to play
    } catch {
      return false;
    }
    if (response.status !== 503) return response.ok;
    const wait = 1000 * (Number(response.headers.get("Retry-After")) || 1);
    if (Date.now() + wait > giveUp) return false;
    await pause(wait);
  }
}

function askAhead(url) {
  const ready = asking.then(() => made(url));
  asking = ready;
  return { url, ready };
}

async function play(url) {
  const audio = new Audio(url);
  await new Promise((done) => {
    const stuck = setTimeout(done, 15000);  // a sound that never ends must not silence the next
    const finish = () => { clearTimeout(stuck); done(); };
    audio.onended = audio.onerror = finish;
    audio.play().catch(finish);  // autoplay refused: the board goes on without sound
  });
  audio.removeAttribute("src");  // stops one cut short, and lets it go
  audio.load();
}

async function playPending() {
  if (playing) return;
  playing = true;
  while (pending.length) {
    for (const sound of pending.shift()) {
      if (await sound.ready) await play(sound.url);  // no voice on the server: the chime alone does
    }
  }
  playing = false;
}

function announce(call) {
  if (pending.length >= 2) pending[0] = pending[0].slice(0, 1);
  pending.push([
    { url: settings.chimeUrl, ready: Promise.resolve(true) },
    ...settings.speak.map((lang) => askAhead(`${settings.speechBase}${lang}/${call.number}-${call.counter}.wav`)),
  ]);
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
