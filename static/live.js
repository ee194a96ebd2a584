// Follows the queue version with conditional GETs and calls onChange when it moves.
// One short request per interval and no held connection: the server keeps no thread for us.
// Every request gives up after `timeout` ms, so a hung one cannot freeze the screen, and the
// screen refreshes every `backstop` ms even without a change, in case one was ever missed.
export const REQUEST_TIMEOUT_MS = 3000;

export function followQueue(onChange, { url = "/live/version", interval = 500, hiddenInterval = 5000,
                                        backstop = 10000, onOnline = () => {}, onOffline = () => {} } = {}) {
  let etag = null;
  let refreshed = Date.now();
  let failures = 0;
  let timer = null;
  let polling = false;

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  async function poll() {
    if (polling) return;  // the running poll schedules the next one
    polling = true;
    try {
      const response = await fetch(url, {
        cache: "no-store", headers: etag ? { "If-None-Match": etag } : {},
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const stale = Date.now() - refreshed > backstop;
      if (response.status === 200 || (response.status === 304 && stale)) {
        const next = response.headers.get("ETag");
        await onChange();
        etag = next;  // only once the screen shows it: a failed refresh is retried
        refreshed = Date.now();
      } else if (response.status !== 304) {
        throw new Error(`version: HTTP ${response.status}`);
      }
      if (failures >= 3) onOnline();
      failures = 0;
    } catch (error) {
      failures += 1;
      if (failures === 3) onOffline(error);
    } finally {
      polling = false;
    }
    schedule(document.hidden ? hiddenInterval : interval * Math.min(1 + failures, 4));
  }

  // Back on a phone's tab: look at once rather than after the slow hidden interval.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) schedule(0); });
  poll();
}
