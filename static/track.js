// The status page follows its ticket: on every queue change it fetches its own status block.
import { followQueue, REQUEST_TIMEOUT_MS } from "./live.js";

const status = document.getElementById("status");
const originalTitle = document.title;

followQueue(async () => {
  const response = await fetch(status.dataset.statusUrl, {
    cache: "no-store", signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok && response.status !== 404) throw new Error(`status: HTTP ${response.status}`);
  const before = status.firstElementChild?.dataset.status;
  status.innerHTML = await response.text();  // server-rendered, escaped by the template
  const state = status.firstElementChild;
  document.title = state?.dataset.title ?? originalTitle;
  if (state?.dataset.status === "called" && before !== "called") navigator.vibrate?.([300, 150, 300]);
}, { url: status.dataset.versionUrl, interval: Number(status.dataset.pollMs) });
