// The facility dashboard: every kiosk, live (asked every two seconds), and the orders staff
// give them through the same API an ops tool uses.
(() => {
  "use strict";
  const main = document.querySelector("main");
  const t = JSON.parse(main.dataset.texts);
  const url = main.dataset.kiosksUrl;
  const rows = document.querySelector("#kiosks");
  const log = document.querySelector("#alerts");
  const error = document.querySelector("#ops-error");
  const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };
  const button = (label, action) => {
    const b = document.createElement("button");
    b.type = "button"; b.className = "button secondary"; b.textContent = label;
    b.addEventListener("click", async () => { b.disabled = true; try { await action(); } finally { b.disabled = false; } });
    return b;
  };
  const order = async (name, path, body) => {
    const response = await fetch(`${url}/${encodeURIComponent(name)}/${path}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": main.dataset.csrfToken },
      body: JSON.stringify(body || {}),
    });
    error.hidden = response.ok;
    if (!response.ok) error.textContent = (await response.json()).message;
    refresh();
  };
  const printer = (p) => !p ? "–" : `${p.online ? "online" : "offline"}, paper ${p.paper}${p.cover_open ? ", cover open" : ""}`;
  // "12, last at 10:42" in this PC's time: a kiosk that stopped issuing shows it at a glance
  const lastTicket = (k) => !k.last_ticket_at ? String(k.tickets_today) : `${k.tickets_today}, ${t.last_at.replace(
    "{time}", new Date(k.last_ticket_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }))}`;
  const row = (k) => {
    const tr = document.createElement("tr");
    tr.dataset.kiosk = k.name;
    tr.className = k.in_service ? "in-service" : "out-of-service";
    tr.append(cell(k.name), cell(k.in_service ? t.in_service : `${t.out_of_service}: ${k.reason || ""}`),
              cell(t.seconds_ago.replace("{n}", Math.round(k.age_s))), cell(k.reader || "–"), cell(printer(k.printer)),
              cell(lastTicket(k)), cell(k.clock_offset_s === null ? "–" : `${k.clock_offset_s} s`),
              cell(k.alerts.length ? k.alerts.join(", ") : t.none));
    const actions = document.createElement("td");
    const message = document.createElement("input");
    message.type = "text"; message.maxLength = 200; message.setAttribute("aria-label", t.message);
    actions.append(message,
      button(t.take_out, () => order(k.name, "out-of-service", { message: message.value })),
      button(t.put_back, () => order(k.name, "in-service")),
      button(t.reload, () => order(k.name, "reload")),
      button(t.restart_browser, () => order(k.name, "restart", { what: "browser" })),
      button(t.restart_app, () => order(k.name, "restart", { what: "app" })));
    tr.append(actions);
    return tr;
  };
  const refresh = async () => {
    try {
      const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      // keep a message being typed: only rows whose kiosk changed are drawn anew
      const typing = document.activeElement && document.activeElement.closest("tr");
      const kept = typing ? typing.dataset.kiosk : null;
      const fresh = data.kiosks.map((k) => (k.name === kept ? typing : row(k)));
      rows.replaceChildren(...fresh);
      log.replaceChildren(...data.alerts.map((a) => {
        const li = document.createElement("li");
        li.textContent = `${a.started_at} ${a.kiosk}: ${a.kind}${a.ended_at ? ` (until ${a.ended_at})` : ""}`;
        return li;
      }));
    } catch (e) { /* the server restarts: ask again */ }
  };
  refresh();
  setInterval(refresh, 2000);
})();
