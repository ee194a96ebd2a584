// Audio guidance for a citizen who cannot see the screen (EN 301 549 5.1.3 and 5.2): each
// screen and its choices spoken through the headphones in the chosen language, moved through
// with the keys of a tactile keypad. The speech is made by the kiosk PC itself
// (kiosk/citizen/speech.py, espeak-ng); the phrases besides the screen's own texts come
// translated from the page (templates/citizen/layout.html).
//
// Started without sight: any key of the keypad, a press of two seconds anywhere on the
// screen, or headphones plugged in where the browser reports a new audio output. It stays on
// through the screens of this visit (sessionStorage) and ends with it: the idle reset, the
// card pulled, "Done" on the ticket screen.
//
// The keypad is a USB keyboard to the PC; a tactile one (EN 301 549 style: arrows, a round
// Enter, Back, star, plus, minus) or a plain numeric keypad, with Num Lock on or off:
//   next      ↓ → Tab         Numpad 2, 6     previous  ↑ ← Shift+Tab    Numpad 8, 4
//   choose    Enter Space     Numpad 5        back      Backspace Escape BrowserBack
//   repeat    *               Numpad *        keys      / F1 Help        Numpad /
//   louder    + AudioVolumeUp Numpad +        softer    - AudioVolumeDown Numpad -
(() => {
  "use strict";
  const guide = document.querySelector("[data-speech]");
  if (!guide) return;
  const data = guide.dataset;
  // The phrases, by name: data-say-more-time is say.moreTime.
  const say = {};
  for (const [name, text] of Object.entries(data)) {
    if (name.startsWith("say")) say[name[3].toLowerCase() + name.slice(4)] = text;
  }
  const body = document.body;
  const pageLang = document.documentElement.lang;
  const maxChars = Number(data.maxChars || 1000);
  const home = body.classList.contains("screen-home");

  const BY_CODE = {
    Numpad2: "next", Numpad6: "next", Numpad8: "previous", Numpad4: "previous", Numpad5: "choose",
    NumpadEnter: "choose", NumpadMultiply: "repeat", NumpadDivide: "keys", NumpadAdd: "louder",
    NumpadSubtract: "softer",
  };
  const BY_KEY = {
    ArrowDown: "next", ArrowRight: "next", ArrowUp: "previous", ArrowLeft: "previous",
    Enter: "choose", " ": "choose", Backspace: "back", Escape: "back", BrowserBack: "back",
    "*": "repeat", "/": "keys", F1: "keys", Help: "keys", "+": "louder", AudioVolumeUp: "louder",
    "-": "softer", AudioVolumeDown: "softer",
  };
  const actionOf = (e) => {
    if (e.key === "Tab") return e.shiftKey ? "previous" : "next";
    return BY_CODE[e.code] || BY_KEY[e.key] || null;
  };

  // Kept for this visit only; the reset forgets them (see the end).
  const ON = "speech", HELPED = "speechHelped", VOLUME = "speechVolume";
  let on = sessionStorage.getItem(ON) === "1";
  let volume = Number(sessionStorage.getItem(VOLUME) || 0.7);

  // --- the player: one sound at a time, each after the one before -------------------------
  const audio = new Audio();
  let queue = [], last = [], current = null;
  // A text as it is spoken: its lines (a choice's name and its fee) and the parts joined to it
  // said as sentences, the dots between figures as a pause.
  const sentences = (parts) => parts
    .flatMap((part) => part.split(/\n+/))
    .map((part) => part.replace(/\s*[·•|]\s*/g, ", ").replace(/\s+/g, " ").trim())
    .filter(Boolean)
    .map((part, i, all) => (i < all.length - 1 && !/[.!?:;,]$/.test(part) ? `${part}.` : part))
    .join(" ");
  const clean = (text) => sentences([text]).slice(0, maxChars);
  const address = (u) => u.url
    || `${data.speechUrl.replace("LANG", u.lang)}?text=${encodeURIComponent(u.text)}`;
  const playNext = () => {
    const next = queue.shift();
    current = next || null;
    if (!next) return;
    audio.src = address(next);
    audio.volume = volume;
    audio.play().catch(() => {});  // a sound that cannot play reports an error: the next one follows
  };
  // While the citizen listens, the screen must not go back to the start: a sound ended counts
  // as activity for the idle timer (kiosk.js listens for key presses; this event has no key).
  const listened = () => {
    if (idleDialog && idleDialog.hidden) document.dispatchEvent(new Event("keydown"));
    playNext();
  };
  audio.addEventListener("ended", listened);
  audio.addEventListener("error", playNext);
  const speak = (utterances) => {
    const sounds = utterances.filter((u) => u.url || u.text);
    if (!sounds.length) return;
    last = sounds;
    queue = [...sounds];
    audio.pause();
    playNext();
  };
  // What the screen tells politely waits for what is being said; an alert cuts it short.
  const speakAfter = (utterances) => {
    if (current === null) { speak(utterances); return; }
    queue.push(...utterances);
    last = [...last, ...utterances];
  };
  const phrase = (text) => ({ text: clean(text || ""), lang: pageLang });

  // --- what a screen says, in the order it shows it --------------------------------------
  const CONTROLS = "a[href], button, input[type=checkbox], input[type=radio]";
  const READING = "h1, h2, h3, p, li, legend";
  const idleDialog = document.querySelector(".idle-warning");
  const dialogOpen = () => idleDialog && !idleDialog.hidden;

  // A text field needs letters the keypad does not have (the optional e-mail address): it
  // is left out, with its label, its hint and its on-screen keyboard.
  const fieldParts = () => {
    const parts = new Set();
    for (const field of document.querySelectorAll("input:not([type]), input[type=text], input[type=email], input[type=tel], textarea")) {
      parts.add(field);
      if (field.id) for (const label of document.querySelectorAll(`label[for="${field.id}"]`)) parts.add(label);
      for (const id of (field.getAttribute("aria-describedby") || "").split(/\s+/)) {
        const hint = id && document.getElementById(id);
        if (hint && !hint.matches("[role=alert]")) parts.add(hint);
      }
    }
    return parts;
  };
  const left = (el, parts) => parts.has(el) || el.getClientRects().length === 0
    || el.closest("[hidden], [aria-hidden=true], .osk, [data-speech-skip], [data-toggle-large]");

  const languageOf = (el) => (el.closest("[lang]") || document.documentElement).lang || pageLang;
  const textOf = (el, control) => clean(el.dataset.speak
    || (control && el.getAttribute("aria-label")) || el.innerText || "");

  const itemsOf = () => {
    const roots = dialogOpen() ? [idleDialog] : [...document.querySelectorAll("main, footer")];
    const parts = fieldParts();
    const items = [];
    for (const root of roots) {
      for (const el of root.querySelectorAll(`${READING}, ${CONTROLS}`)) {
        if (left(el, parts)) continue;
        const control = el.matches(CONTROLS);
        if (!control && (el.closest(`${CONTROLS}, label`) || el.querySelector(CONTROLS)
          || (el.parentElement && el.parentElement.closest(READING)))) continue;
        const shown = control && el.matches("input") ? el.closest("label") || el : el;
        const text = textOf(control ? (el.dataset.speak ? el : shown) : el, control);
        if (text) items.push({ el: shown, control: control ? el : null, text, lang: languageOf(el) });
      }
    }
    // The start screen speaks in every language before one is chosen (templates/citizen/home.html).
    const intros = [...document.querySelectorAll("[data-speech-intro]")];
    if (intros.length && !dialogOpen()) {
      const heading = document.querySelector("main h1") || document.querySelector("main");
      const spoken = intros.map((el) => ({ el: heading, control: null, text: clean(el.textContent), lang: el.lang }));
      return [...spoken, ...items.filter((item) => item.control)];
    }
    return items;
  };

  const utterance = (item, items) => {
    if (!item.control) return [{ text: item.text, lang: item.lang }];
    const controls = items.filter((i) => i.control);
    const extra = [];
    const box = item.control.matches("input[type=checkbox], input[type=radio]");
    if (box) extra.push(item.control.checked ? say.ticked : say.unticked);
    // a choice in another language (a language to choose) says it all in that language
    if (item.lang === pageLang) {
      extra.push(say.choice.replace("{n}", controls.indexOf(item) + 1).replace("{count}", controls.length));
    }
    return [{ text: sentences([item.text, ...extra]).slice(0, maxChars), lang: item.lang }];
  };

  // --- the focus ring, and moving -------------------------------------------------------
  let items = [], position = -1;
  const ring = (item) => {
    for (const el of document.querySelectorAll(".speech-focus")) el.classList.remove("speech-focus");
    if (!item) return;
    item.el.classList.add("speech-focus");
    if (item.control) item.control.focus({ preventScroll: true });
    item.el.scrollIntoView({ block: "nearest" });
  };

  // A screen opens with its text up to the first choice; the choices come with the arrows.
  const enter = (withKeys) => {
    items = itemsOf();
    const first = items.findIndex((item) => item.control);
    const intro = first === -1 ? items : items.slice(0, first);
    position = intro.length - 1;
    ring(items[position]);
    const hint = (document.querySelector("[data-speech-intro]") || first === -1) ? [] : [phrase(say.hint)];
    speak([...(withKeys ? [phrase(say.keys)] : []), ...intro.flatMap((item) => utterance(item, items)), ...hint]);
  };

  const move = (step) => {
    items = itemsOf();
    if (!items.length) return;
    position = (position + step + items.length) % items.length;  // round and round: never stuck
    ring(items[position]);
    speak(utterance(items[position], items));
  };

  // Where the citizen's own last choice leads: "Start again" chosen keeps the guidance on.
  let chosenUrl = null;
  const choose = () => {
    if (dialogOpen()) {
      idleDialog.querySelector("[data-more-time]").click();
      return;
    }
    const item = items[position];
    if (!item || !item.control) { move(0); return; }
    if (item.control.disabled) return;
    chosenUrl = item.control.href || null;
    item.control.click();
    // a box ticked or a key of the on-screen keypad: the screen stays, and says what changed
    if (!item.control.matches("a[href], [type=submit], button:not([type])")) speak(utterance(item, items));
  };

  const back = () => {
    const way = document.querySelector("[data-back]");
    if (way) { chosenUrl = way.href || null; way.click(); return; }
    if (home || body.classList.contains("screen-ticket") || history.length < 2) { speak([phrase(say.noWayBack)]); return; }
    history.back();
  };

  const setVolume = (step) => {
    const next = Math.round(Math.min(1, Math.max(0.1, volume + step)) * 10) / 10;
    const limit = next === volume;
    volume = next;
    sessionStorage.setItem(VOLUME, String(volume));
    audio.volume = volume;
    speak([phrase(limit ? (step > 0 ? say.loudest : say.softest) : (step > 0 ? say.louder : say.softer))]);
  };

  const run = (action) => {
    if (dialogOpen() && !["choose", "repeat", "louder", "softer"].includes(action)) {
      announceDialog();
      return;
    }
    if (action === "next") move(1);
    else if (action === "previous") move(-1);
    else if (action === "choose") choose();
    else if (action === "back") back();
    else if (action === "repeat") speak(last);
    else if (action === "keys") speak([phrase(say.keys)]);
    else if (action === "louder") setVolume(0.1);
    else if (action === "softer") setVolume(-0.1);
  };

  // Told the keys once, on the first screen in the citizen's language.
  const withKeys = () => {
    if (home || sessionStorage.getItem(HELPED) === "1") return false;
    sessionStorage.setItem(HELPED, "1");
    return true;
  };
  const start = () => {
    on = true;
    sessionStorage.setItem(ON, "1");
    guide.hidden = false;
    if (dialogOpen()) announceDialog(); else enter(withKeys());
  };

  document.addEventListener("keydown", (e) => {
    const action = actionOf(e);
    if (!action || !e.isTrusted) return;
    e.preventDefault();  // the keys are the guidance's: Enter must not also press what has focus
    if (!on) { start(); return; }
    if (e.repeat && action !== "next" && action !== "previous") return;
    run(action);
  }, true);

  // A long press anywhere starts it (and, once on, says the screen again). The tap that ends
  // the press must not also press what lies under the finger.
  const HOLD_MS = 2000, SLOP_PX = 40;
  let hold = null, swallow = false;
  const letGo = () => { if (hold) clearTimeout(hold.timer); hold = null; };
  document.addEventListener("pointerdown", (e) => {
    if (!e.isTrusted) return;
    swallow = false;  // a new gesture: a long press before it may have ended without a click
    letGo();
    hold = { x: e.clientX, y: e.clientY, timer: setTimeout(() => {
      hold = null;
      swallow = true;
      if (on) { if (dialogOpen()) announceDialog(); else enter(false); } else start();
    }, HOLD_MS) };
  }, true);
  document.addEventListener("pointermove", (e) => {
    if (hold && Math.hypot(e.clientX - hold.x, e.clientY - hold.y) > SLOP_PX) letGo();
  }, true);
  for (const type of ["pointerup", "pointercancel"]) document.addEventListener(type, letGo, true);
  document.addEventListener("click", (e) => {
    if (swallow && e.isTrusted) { e.preventDefault(); e.stopPropagation(); swallow = false; }
  }, true);

  // Headphones: Chromium reports a new audio output (a USB headset, or a jack the sound card
  // reports as its own device) by "devicechange"; a jack that only switches the port of the
  // same output is not reported at all.
  const media = navigator.mediaDevices;
  if (media && media.enumerateDevices) {
    const outputs = async () => (await media.enumerateDevices()).filter((d) => d.kind === "audiooutput").map((d) => d.deviceId);
    let known = null;
    outputs().then((list) => { known = list; }).catch(() => {});
    media.addEventListener("devicechange", async () => {
      let now;
      try { now = await outputs(); } catch (e) { return; }
      const added = known !== null && (now.length > known.length || now.some((id) => id && !known.includes(id)));
      known = now;
      if (added && !on) start();
    });
  }

  // The idle warning: a sound, then what it says and how to get more time.
  const announceDialog = () => {
    items = itemsOf();
    position = items.findIndex((item) => item.control);
    ring(items[position]);
    speak([{ url: data.alertUrl }, ...items.filter((item) => !item.control).map((item) => ({ text: item.text, lang: item.lang })),
      phrase(say.moreTime)]);
  };
  if (idleDialog) {
    let shown = false;
    new MutationObserver(() => {
      if (!on || dialogOpen() === shown) return;
      shown = dialogOpen();
      if (shown) { announceDialog(); return; }
      items = itemsOf();
      position = Math.min(Math.max(position, -1), items.length - 1);
      ring(null);
      speak([phrase(say.moreTimeGiven)]);
    }).observe(idleDialog, { attributes: true, attributeFilter: ["hidden"] });
  }

  // What the screen tells by itself (the card reader's messages) is spoken when it changes.
  for (const region of document.querySelectorAll("main [role=status], main [role=alert], main [aria-live]")) {
    let said = region.textContent;
    new MutationObserver(() => {
      if (!on || region.textContent === said) return;
      said = region.textContent;
      if (left(region, new Set())) return;
      const told = [{ text: clean(region.innerText), lang: languageOf(region) }];
      if (region.matches("[role=alert], [aria-live=assertive]")) speak(told); else speakAfter(told);
    }).observe(region, { childList: true, characterData: true, subtree: true });
  }

  // The end of the visit ends the guidance: the next citizen starts without it.
  if (window.navigation) {
    const resetPath = new URL(body.dataset.resetUrl, location.href).pathname;
    window.navigation.addEventListener("navigate", (e) => {
      const to = e.destination.url;
      if (new URL(to).pathname !== resetPath) return;
      if (to === chosenUrl && !body.classList.contains("screen-ticket")) return;  // "Start again"
      for (const key of [ON, HELPED, VOLUME]) sessionStorage.removeItem(key);
    });
  }

  const resume = () => {
    on = sessionStorage.getItem(ON) === "1";
    guide.hidden = !on;
    if (on) enter(withKeys());
  };
  resume();
  // A screen shown again from the browser's memory (Back) runs no script: it speaks again.
  window.addEventListener("pageshow", (e) => { if (e.persisted) resume(); });
})();
