// Following an asset's events WebSocket for as long as it is not ready or failed: processing goes
// on while the connection is down, so a socket that drops (network, server restart) is opened
// again with backoff (0.5 s doubling to 10 s, with jitter), and the snapshot every connection
// starts with brings the page up to date. A browser cannot read why a handshake was refused, so
// after each failed connection the asset is read once (`GET`, with the token): that answer updates
// the page too, tells an expired token or a deleted asset from an outage, and keeps the page moving
// if the socket never comes back (too many open for this token). A close with 4401 (the token
// expired) ends it with ERR_TOKEN_EXPIRED rather than looping. Loaded after app.js, whose `api`,
// `ui`, `PulseError` and `MESSAGES` it uses; app.js calls `PulseEvents.follow`.
"use strict";

const PulseEvents = (() => {
  const FIRST_DELAY = 500;
  const MAX_DELAY = 10000;
  // Handshakes refused in a row, while the API answers, before the page says why it may be.
  const REFUSALS_BEFORE_NOTE = 2;

  function showConnection(text) {
    ui.connection.textContent = text || "";
    ui.connection.hidden = !text;
  }

  // Resolves with the asset when it is ready; rejects with a PulseError when it failed, was
  // deleted, or the token expired (or ERR_CANCELLED when `signal` aborts: the page moved on).
  // `onEvent` gets every other message (a `GET` answer as a snapshot).
  function follow(id, token, onEvent, signal) {
    return new Promise((resolve, reject) => {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const url = `${scheme}//${location.host}/v1/assets/${id}/events?token=${encodeURIComponent(token)}`;
      let done = false;
      let socket = null;
      let timer = null;
      let delay = FIRST_DELAY;
      let refusals = 0;

      function finish(settle, value) {
        if (done) return;
        done = true;
        clearTimeout(timer);
        window.removeEventListener("online", connectNow);
        showConnection(null);
        if (socket) { socket.onclose = null; socket.close(); }
        settle(value);
      }
      const failed = (error) => finish(reject, new PulseError(error && error.code, error && error.message));

      // What the asset's own state says: ends the wait when it is terminal.
      function take(asset) {
        if (asset.status === "ready") finish(resolve, asset);
        else if (asset.status === "failed") failed(asset.error);
        else if (!done) onEvent({ type: "snapshot", asset });
      }

      function connect() {
        if (done) return;
        timer = null;
        let opened = false;
        socket = new WebSocket(url);
        socket.onopen = () => { opened = true; };
        socket.onmessage = (message) => {
          const event = JSON.parse(message.data);
          switch (event.type) {
            case "snapshot":
              delay = FIRST_DELAY;
              refusals = 0;
              showConnection(null);
              onEvent(event);
              break;
            case "ready": finish(resolve, event.asset); break;
            case "failed": failed(event.error); break;
            default: onEvent(event);
          }
        };
        socket.onclose = (event) => {
          socket = null;
          if (done) return;
          if (event.code === 4401) { failed({ code: "ERR_TOKEN_EXPIRED" }); return; }
          if (event.code === 4404) { failed({ code: "ERR_ASSET_DELETED" }); return; }
          if (!opened) refusals += 1;
          showConnection("Connection lost; reconnecting… Processing goes on meanwhile.");
          check().then(schedule);
        };
      }

      async function check() {
        try {
          take(await api("GET", `/v1/assets/${id}`, { bearer: token }));
          if (!done && refusals >= REFUSALS_BEFORE_NOTE) showConnection(MESSAGES.ERR_TOO_MANY_CONNECTIONS);
        } catch (error) {
          if (error.code === "ERR_TOKEN_EXPIRED") failed(error);
          else if (error.code === "ERR_NOT_FOUND") failed({ code: "ERR_ASSET_DELETED" });
          // Anything else (the service is down, a network change): keep trying.
        }
      }

      function schedule() {
        if (done || timer || socket) return;
        timer = setTimeout(connect, delay * (0.5 + Math.random() / 2));
        delay = Math.min(delay * 2, MAX_DELAY);
      }

      // Back online: no need to wait out the backoff.
      function connectNow() {
        if (done || socket) return;
        clearTimeout(timer);
        connect();
      }
      window.addEventListener("online", connectNow);
      signal.addEventListener("abort", () => failed({ code: "ERR_CANCELLED" }), { once: true });
      connect();
    });
  }

  return { follow };
})();
