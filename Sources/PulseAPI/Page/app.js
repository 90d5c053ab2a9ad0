// Pulse Video upload page: choose a file -> create the asset (API key) -> PUT the file with upload
// progress -> complete (asset token) -> follow the events WebSocket (asset token) -> play HLS.
// Plain JavaScript, no build step. The API key stays in this browser (localStorage).
"use strict";

const KEY_STORAGE = "pulse.apiKey";
const RING_LENGTH = 2 * Math.PI * 52;

// A clear sentence for every failure code the service can send.
const MESSAGES = {
  ERR_NON_VIDEO: "This file is not a video we can read. Choose a video file (MP4, MOV, WebM, MKV…).",
  ERR_NO_VIDEO_STREAM: "This file has no picture (is it audio only?). Choose a video file.",
  ERR_MALFORMED_VIDEO: "The video file is damaged or incomplete. Export or download it again and retry.",
  ERR_DURATION_TOO_SHORT: "The video is too short to process.",
  ERR_DURATION_EXCEED_CONSTRAINT: "The video is longer than the allowed maximum.",
  ERR_RESOLUTION_EXCEED_CONSTRAINT: "The video's resolution is larger than the allowed maximum.",
  ERR_SOURCE_NOT_FOUND: "The uploaded file was not found in storage. Please upload it again.",
  ERR_INPUT_NOT_ALLOWED: "The uploaded file could not be read back from storage. Please tell the operator.",
  ERR_STORAGE_UNAVAILABLE: "Storage was unavailable for too long. Please try again later.",
  ERR_DATABASE_UNAVAILABLE: "The service's database was unavailable for too long. Please try again later.",
  ERR_TOOL_TIMEOUT: "Reading the video took too long. Please try again later.",
  ERR_UPLOAD_TOO_LARGE: "The file is larger than the upload limit.",
  ERR_SOURCE_CHANGED: "The uploaded file was replaced after the upload finished, so it was not processed. Choose the file again.",
  ERR_UPLOAD_NOT_FOUND: "The upload did not arrive. Please try again.",
  ERR_UNAUTHORIZED: "The API key was refused. Check it and save it again.",
  ERR_TOKEN_EXPIRED: "This upload's session has expired. Choose the file again.",
  ERR_FORBIDDEN: "This key or session does not allow that.",
  ERR_INVALID_REQUEST: "The request was refused as invalid.",
  ERR_INVALID_JSON: "The request was refused as invalid.",
  ERR_INVALID_SIGNATURE: "The upload link was refused. Please try again.",
  ERR_URL_EXPIRED: "The upload link expired before the upload started. Please try again.",
  ERR_WORKER_LOST: "Processing was interrupted again and again. Please try again later.",
  ERR_ENCODER_STALLED: "Encoding stopped making progress. Please try again later.",
  ERR_ENCODER_FAILED: "The video could not be encoded.",
  ERR_OUTPUT_MISSING: "Processing failed to produce the video. Please try again.",
  ERR_TOOL_MISSING: "The service is missing its video tools. Please tell the operator.",
  ERR_STORAGE: "Storage failed while processing. Please try again later.",
  ERR_PROCESSING: "Processing failed. Please try again later.",
  ERR_ASSET_DELETED: "This video was deleted.",
  ERR_UNAVAILABLE: "The service is temporarily unavailable. Try again shortly.",
  ERR_INTERNAL: "Something went wrong on our side. Please try again.",
  ERR_NETWORK: "The connection to the service was lost. Check your network and try again.",
  ERR_PART_MISSING: "Some parts of the upload have not arrived yet. Resume the upload.",
  ERR_PART_INVALID: "A part of the upload did not match the file. Choose the file again.",
  ERR_PART_ETAG_MISMATCH: "A part of the upload did not match the file. Choose the file again.",
  ERR_UPLOAD_EXPIRED: "This upload's time is over. Choose the file again to start anew.",
};

const $ = (id) => document.getElementById(id);
const ui = {
  key: $("api-key"), saveKey: $("save-key"), file: $("file"), fileName: $("file-name"),
  upload: $("upload"), uploadBar: $("upload-progress"), uploadPercent: $("upload-percent"),
  processing: $("processing"), ring: $("ring"), ringBar: $("ring-bar"), ringPercent: $("ring-percent"),
  status: $("status-text"), eta: $("eta"), thumbnail: $("thumbnail"), player: $("player"), message: $("message"),
  playableNote: $("playable-note"),
};

class PulseError extends Error {
  constructor(code, message) { super(message || code); this.code = code; }
}

// ---- state shown on the page -------------------------------------------------------------------
let shownPercent = 0;

function showMessage(code, fallback, kind) {
  ui.message.textContent = MESSAGES[code] || fallback || MESSAGES.ERR_INTERNAL;
  ui.message.dataset.code = code || "";
  ui.message.className = "message" + (kind ? " " + kind : "");
  ui.message.hidden = false;
}

function setRing(percent) {
  // Never backwards: the service already guarantees it, the page does too.
  shownPercent = Math.max(shownPercent, Math.min(100, percent));
  ui.ringBar.style.strokeDashoffset = String(RING_LENGTH * (1 - shownPercent / 100));
  ui.ringPercent.textContent = String(Math.floor(shownPercent));
  ui.ring.dataset.percent = String(shownPercent);
  ui.ring.setAttribute("aria-valuenow", String(Math.floor(shownPercent)));
  if (shownPercent >= 100) ui.ring.classList.add("done");
}

function setETA(seconds) {
  if (seconds == null || !isFinite(seconds)) { ui.eta.textContent = ""; return; }
  const s = Math.max(0, Math.round(seconds));
  ui.eta.textContent = s < 60 ? `About ${s} s left` : `About ${Math.floor(s / 60)} min ${s % 60} s left`;
}

function showThumbnail(url) {
  if (!url || ui.thumbnail.dataset.src === url) return;
  ui.thumbnail.dataset.src = url;
  ui.thumbnail.src = url;
  ui.thumbnail.hidden = false;
}

// The finished ladder: the player keeps the URL it already plays (the master playlist's address
// does not change at `ready`; a player that started early finishes on the first rendition).
function play(asset) {
  if (!asset || !asset.playlist_url) return;
  setRing(100);
  ui.status.textContent = "Ready";
  setETA(null);
  ui.playableNote.hidden = true;
  startPlayback(asset.playlist_url, asset.thumbnail_url);
}

// `playable`: the first rendition plays while the rest of the ladder is still being encoded.
function playEarly(playlistURL, thumbnailURL) {
  if (!playlistURL || ui.player.dataset.src) return;
  ui.playableNote.hidden = false;
  startPlayback(playlistURL, thumbnailURL);
}

function startPlayback(playlistURL, thumbnailURL) {
  const asset = { playlist_url: playlistURL, thumbnail_url: thumbnailURL };
  if (ui.player.dataset.src === asset.playlist_url) return;
  ui.player.dataset.src = asset.playlist_url;
  if (asset.thumbnail_url) ui.player.poster = asset.thumbnail_url;
  // Safari and Chromium play HLS natively.
  if (!ui.player.canPlayType("application/vnd.apple.mpegurl")) {
    showMessage(null, "This browser cannot play HLS natively; open the playlist in Safari or Chrome: " + asset.playlist_url, "info");
  }
  ui.player.src = asset.playlist_url;
  ui.player.hidden = false;
  ui.player.play().catch(() => { /* autoplay refused: the controls are there */ });
}

function reset() {
  shownPercent = 0;
  ui.playableNote.hidden = true;
  ui.ring.classList.remove("done");
  setRing(0);
  setETA(null);
  ui.message.hidden = true;
  ui.thumbnail.hidden = true;
  delete ui.thumbnail.dataset.src;
  ui.player.hidden = true;
  ui.player.removeAttribute("src");
  delete ui.player.dataset.src;
  ui.upload.hidden = true;
  ui.processing.hidden = true;
  ui.uploadBar.value = 0;
  ui.uploadPercent.textContent = "0 %";
}

// ---- talking to the service --------------------------------------------------------------------
async function api(method, path, { body, bearer } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { "Authorization": "Bearer " + bearer, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new PulseError("ERR_NETWORK");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new PulseError(error.code || "ERR_INTERNAL", error.message);
  }
  return data;
}

function uploadFile(file, upload) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method, upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.floor((event.loaded / event.total) * 100);
      ui.uploadBar.value = percent;
      ui.uploadPercent.textContent = percent + " %";
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        ui.uploadBar.value = 100;
        ui.uploadPercent.textContent = "100 %";
        resolve();
        return;
      }
      let code = "ERR_INTERNAL";
      try { code = JSON.parse(xhr.responseText).error.code || code; } catch (e) {
        if (xhr.status === 413) code = "ERR_UPLOAD_TOO_LARGE";
        if (xhr.status === 403) code = "ERR_INVALID_SIGNATURE";
      }
      reject(new PulseError(code));
    };
    xhr.onerror = () => reject(new PulseError("ERR_NETWORK"));
    xhr.send(file);
  });
}

// Resolves with the final asset when the socket reports `ready`; rejects on `failed`.
function followEvents(id, token) {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/v1/assets/${id}/events?token=${encodeURIComponent(token)}`);
    let finished = false;
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      switch (event.type) {
        case "snapshot": {
          const asset = event.asset;
          setRing(asset.progress || 0);
          showThumbnail(asset.thumbnail_url);
          if (asset.status === "processing") ui.status.textContent = "Processing…";
          if (asset.status === "processing" && asset.playlist_url) playEarly(asset.playlist_url, asset.thumbnail_url);
          break;
        }
        case "status":
          if (event.status === "processing") ui.status.textContent = "Processing…";
          break;
        case "thumbnail_ready":
          showThumbnail(event.thumbnail_url);
          break;
        case "playable":
          playEarly(event.playlist_url, ui.thumbnail.src || null);
          break;
        case "progress":
          ui.status.textContent = "Processing…";
          setRing(event.percent);
          setETA(event.eta_seconds);
          break;
        case "ready":
          finished = true;
          setRing(100);
          if (event.asset) showThumbnail(event.asset.thumbnail_url);
          resolve(event.asset);
          break;
        case "failed":
          finished = true;
          reject(new PulseError(event.error && event.error.code, event.error && event.error.message));
          break;
      }
    };
    socket.onclose = () => { if (!finished) reject(new PulseError("ERR_NETWORK")); };
  });
}

async function start(file) {
  reset();
  const apiKey = (ui.key.value || "").trim();
  if (!apiKey) {
    showMessage(null, "Enter the API key first: creating an upload needs it.", "info");
    ui.key.focus();
    return;
  }
  ui.fileName.textContent = `${file.name} (${(file.size / 1048576).toFixed(1)} MB)`;
  try {
    let asset;
    if (typeof PulseMultipart !== "undefined" && PulseMultipart.wants(file)) {
      // Big files go up in resumable parts (multipart.js): create or resume, parts, complete.
      asset = await PulseMultipart.upload(file, apiKey);
    } else {
      asset = await api("POST", "/v1/assets", {
        bearer: apiKey,
        body: { filename: file.name, size: file.size, content_type: file.type || "application/octet-stream" },
      });
      ui.upload.hidden = false;
      await uploadFile(file, asset.upload);
      // From here on only the asset's own token is used.
      await api("POST", `/v1/assets/${asset.id}/complete`, { bearer: asset.token });
    }
    ui.processing.hidden = false;
    ui.status.textContent = "Queued…";
    const ready = await followEvents(asset.id, asset.token);
    play(ready || await api("GET", `/v1/assets/${asset.id}`, { bearer: asset.token }));
  } catch (error) {
    showMessage(error.code, error.message);
    ui.status.textContent = "Failed";
  }
}

// ---- wiring -----------------------------------------------------------------------------------
ui.key.value = localStorage.getItem(KEY_STORAGE) || "";
function saveKey() {
  localStorage.setItem(KEY_STORAGE, ui.key.value.trim());
  ui.saveKey.textContent = "Saved";
  setTimeout(() => { ui.saveKey.textContent = "Save"; }, 1200);
}
ui.saveKey.addEventListener("click", saveKey);
ui.key.addEventListener("change", saveKey);
ui.file.addEventListener("change", () => { if (ui.file.files[0]) start(ui.file.files[0]); });
