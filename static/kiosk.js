// The citizen's kiosk: idle return, card watching, keypad, larger text, and no way off the app.
(() => {
  "use strict";
  const body = document.body;
  const data = body.dataset;
  const go = (url) => { window.location.replace(url); };
  const reset = () => go(data.resetUrl);

  // Hardening: no context menu, selection, drag or multi-touch zoom.
  for (const type of ["contextmenu", "selectstart", "dragstart", "gesturestart"]) {
    document.addEventListener(type, (e) => { if (e.target.tagName !== "INPUT") e.preventDefault(); });
  }
  document.addEventListener("touchmove", (e) => { if (e.touches.length > 1) e.preventDefault(); }, { passive: false });

  // Larger text, kept for this visit only (the home screen forgets it).
  const html = document.documentElement;
  const toggle = document.querySelector("[data-toggle-large]");
  if (body.classList.contains("screen-home")) sessionStorage.removeItem("large");
  const applyLarge = (on) => {
    html.classList.toggle("large", on);
    if (toggle) toggle.setAttribute("aria-pressed", on ? "true" : "false");
  };
  applyLarge(sessionStorage.getItem("large") === "1");
  if (toggle) toggle.addEventListener("click", () => {
    const on = !html.classList.contains("large");
    sessionStorage.setItem("large", on ? "1" : "0");
    applyLarge(on);
  });

  // Inactivity: warn, then back to the start (which forgets everything).
  const idle = Number(data.idleSeconds || 0);
  const WARN = 15;
  if (idle > 0) {
    const dialog = document.querySelector(".idle-warning");
    const countdown = dialog.querySelector("[data-countdown]");
    let warnTimer, endTimer, tick;
    const arm = () => {
      clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tick);
      dialog.hidden = true;
      warnTimer = setTimeout(() => {
        let left = Math.min(WARN, idle);
        countdown.textContent = left;
        dialog.hidden = false;
        dialog.querySelector("[data-more-time]").focus();
        tick = setInterval(() => { left -= 1; countdown.textContent = Math.max(left, 0); }, 1000);
      }, Math.max(idle - WARN, 0) * 1000);
      endTimer = setTimeout(reset, idle * 1000);
    };
    // While the warning shows, only its button counts: hiding it on pointerdown would let the
    // same tap land on whatever lies beneath (e.g. "Take a ticket").
    const activity = () => { if (dialog.hidden) arm(); };
    for (const type of ["pointerdown", "keydown", "touchstart"]) document.addEventListener(type, activity, { passive: true });
    dialog.querySelector("[data-more-time]").addEventListener("click", arm);
    arm();
  }

  // Set when the screen posts its ticket form: from then on no card watcher may take the
  // screen elsewhere (a card pulled right after the tap must not hide the ticket).
  let leaving = false;

  // The reader, long-polled from a known version: the server answers as soon as it changes.
  const watchCard = (from, handle) => {
    let version = from;
    const pause = () => new Promise((r) => setTimeout(r, 1000));
    const once = async () => {
      try {
        const response = await fetch(`${data.cardUrl}?after=${version}`, { cache: "no-store" });
        if (response.ok) {
          const state = await response.json();
          if (leaving) return;
          version = state.version;
          if (handle(state) === false) return;
        } else {
          await pause();
        }
      } catch (e) { await pause(); }  // the server restarts
      if (!leaving) once();
    };
    once();
  };

  // A screen with someone's data leaves at any change of the reader: card pulled or swapped.
  // The card's checks follow its reading as the same read; then the notes are shown again
  // with what they add (never waited for: the screen shows at once).
  if (data.cardVersion) {
    const shown = Number(data.cardVersion);
    const findings = document.querySelector("[data-findings]");
    let checked = Boolean(data.cardChecked);
    const showFindings = async () => {
      try {
        const response = await fetch(findings.dataset.findings, { cache: "no-store", signal: AbortSignal.timeout(5000) });
        if (response.ok && !leaving) findings.innerHTML = await response.text();  // rendered by the server, escaped
      } catch (e) { /* the screen keeps the notes it has */ }
    };
    watchCard(shown, (state) => {
      if (state.read !== shown) { reset(); return false; }
      if (state.checked && !checked) { checked = true; if (findings) showFindings(); }
    });
  }

  // Since when the card in the reader has been as it is: its read (its checks follow as new
  // versions of the same read), or its state's version (kiosk.citizen.views.card_since).
  const cardSince = (state) => state.read ?? state.version;

  // Start and visit screens: a card in the reader is named for what it is, the citizen's own
  // (put in first: their visit goes straight to the check) or one someone left there. On the
  // start screen, which forgets nothing by itself, a card put in is let go after the usual idle.
  const notices = document.querySelector("[data-card-notices]");
  if (notices) {
    const after = Number(notices.dataset.cardNotices);
    const idleCard = Number(data.cardIdleSeconds || 0);
    let letGo = null;
    watchCard(after, (state) => {
      if (state.version < after) { window.location.reload(); return false; }  // the reader restarted
      const since = cardSince(state);
      const kind = state.state === "ready" && since > after ? "own" : state.card_is_in && since <= after ? "left" : null;
      for (const notice of notices.querySelectorAll("[data-card-notice]")) notice.hidden = notice.dataset.cardNotice !== kind;
      if (idleCard > 0 && kind === "own" && letGo === null) letGo = setTimeout(reset, idleCard * 1000);
      if (kind !== "own" && letGo !== null) { clearTimeout(letGo); letGo = null; }
    });
  }

  // Only a card read after this citizen began is theirs (the one before may have
  // left theirs); the server says the same, this only saves a round trip.
  if (data.waitCard) {
    const after = Number(data.cardAfter);
    const message = document.querySelector(".reader-message");
    watchCard(after, (state) => {
      if (state.version < after) { window.location.reload(); return false; }  // the reader restarted
      const since = cardSince(state);
      if (state.state === "ready" && since > after) { go(data.waitCard); return false; }
      const key = state.card_is_in && since <= after ? "left_card"
        : state.state === "error" ? state.error : state.state;
      const found = message.getAttribute(`data-msg-${key}`);
      if (found && message.textContent !== found) message.textContent = found;
      for (const part of document.querySelectorAll("[data-shown-for]")) part.hidden = part.dataset.shownFor !== key;
    });
  }

  // The ticket screen: the citizen's card is asked for until it is taken.
  const takeCard = document.querySelector("[data-take-card]");
  if (takeCard && !takeCard.hidden) {
    watchCard(-1, (state) => { if (!state.card_is_in) { takeCard.hidden = true; return false; } });
  }

  // One tap, one ticket: the button goes dead and the watchers stop while it is issued.
  const ticketForm = document.querySelector(".confirm-form");
  if (ticketForm) {
    ticketForm.addEventListener("submit", (e) => {
      if (leaving) { e.preventDefault(); return; }
      leaving = true;
      document.querySelector(".take-ticket").disabled = true;  // in the footer, outside the form
    });
  }

  // Twice a second the page asks its own server (no database behind it) whether the kiosk
  // is in service and whether facility staff asked for a reload: out of service within a
  // second, and back by itself when everything works again. Asking also tells the server
  // the screen is alive.
  if (data.screenUrl) {
    const shownInService = !data.outOfService;
    let reloads = null;
    const ask = async () => {
      try {
        const response = await fetch(data.screenUrl, { cache: "no-store" });
        if (response.ok) {
          const state = await response.json();
          if (reloads === null) reloads = state.reloads;
          if (state.reloads !== reloads) { window.location.reload(); return; }
          if (state.in_service !== shownInService && !leaving) {
            go(state.in_service ? data.homeUrl : data.resetUrl);
            return;
          }
        }
      } catch (e) { /* the server restarts */ }
      setTimeout(ask, 500);
    };
    ask();
  }

  // The on-screen keypad writes into its field (no system keyboard on a kiosk).
  const field = document.querySelector("#national_number");
  for (const key of document.querySelectorAll(".key")) {
    key.addEventListener("click", () => {
      const k = key.dataset.key;
      const digits = field.value.replace(/\D/g, "");
      const next = k === "clear" ? "" : k === "back" ? digits.slice(0, -1) : (digits + k).slice(0, 11);
      // written as on the card: 85.07.30-033.28
      const parts = [next.slice(0, 2), next.slice(2, 4), next.slice(4, 6)].filter(Boolean).join(".");
      field.value = next.length > 6 ? `${parts}-${next.slice(6, 9)}${next.length > 9 ? "." + next.slice(9) : ""}` : parts;
    });
  }

  // An on-screen keyboard for the few fields that need letters (an e-mail address).
  for (const osk of document.querySelectorAll(".osk")) {
    const target = document.getElementById(osk.dataset.target);
    osk.addEventListener("click", (e) => {
      const key = e.target.closest(".osk-key");
      if (!key) return;
      const ch = key.dataset.char;
      target.value = ch === "back" ? target.value.slice(0, -1) : (target.value + ch).slice(0, 200);
    });
  }
})();
