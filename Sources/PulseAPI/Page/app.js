// Pulse Video upload page: choose a file -> create the asset (API key) -> PUT the file with upload
// progress (Cancel aborts it and deletes the asset) -> complete (asset token) -> follow the events
// WebSocket (asset token; events.js reconnects it) -> play HLS. A failed step can be retried with
// the file still held. The API key and the current asset (id, token, file name; see SAVED) stay in
// this browser (localStorage), so a reload shows the asset's state again. Plain JavaScript, no build.
"use strict";

const KEY_STORAGE = "pulse.apiKey";
const RING_LENGTH = 2 * Math.PI * 52;
// The current asset, in localStorage rather than sessionStorage: like the API key and a multipart
// upload's resume record, it outlives the tab, so closing the tab by mistake or coming back later
// still finds the video. Replaced when a new upload starts, removed when the asset is deleted.
const SAVED = "pulse.current";

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
  ERR_INTERNAL_FAULT: "Processing failed on our side. Please try again later.",
  ERR_ASSET_DELETED: "This video was deleted.",
  ERR_UNAVAILABLE: "The service is temporarily unavailable. Try again shortly.",
  ERR_INTERNAL: "Something went wrong on our side. Please try again.",
  ERR_NETWORK: "The connection to the service was lost. Check your network and try again.",
  ERR_PART_MISSING: "Some parts of the upload have not arrived yet. Resume the upload.",
  ERR_PART_INVALID: "A part of the upload did not match the file. Choose the file again.",
  ERR_PART_ETAG_MISMATCH: "A part of the upload did not match the file. Choose the file again.",
  ERR_UPLOAD_EXPIRED: "This upload's time is over. Choose the file again to start anew.",
  ERR_TOO_MANY_CONNECTIONS: "Live updates cannot connect: this video is followed in too many tabs or windows at once. " +
    "Close some; meanwhile this page checks every few seconds.",
  ERR_CANCELLED: "The upload was cancelled.",
};

// Limits: the service's own message says which limit and its value ("uploads are limited to N
// bytes", "the video lasts 5 s; the maximum is 3 s"), so it is shown after the page's sentence.
const LIMIT_CODES = new Set(["ERR_UPLOAD_TOO_LARGE", "ERR_DURATION_TOO_SHORT", "ERR_DURATION_EXCEED_CONSTRAINT",
  "ERR_RESOLUTION_EXCEED_CONSTRAINT"]);
// The same file fails the same way again: no Retry for these.
const FINAL_CODES = new Set([...LIMIT_CODES, "ERR_NON_VIDEO", "ERR_NO_VIDEO_STREAM", "ERR_MALFORMED_VIDEO", "ERR_CANCELLED"]);

const $ = (id) => document.getElementById(id);
const ui = {
  key: $("api-key"), saveKey: $("save-key"), file: $("file"), fileName: $("file-name"),
  upload: $("upload"), uploadBar: $("upload-progress"), uploadPercent: $("upload-percent"),
  processing: $("processing"), ring: $("ring"), ringBar: $("ring-bar"), ringPercent: $("ring-percent"),
  status: $("status-text"), eta: $("eta"), thumbnail: $("thumbnail"), player: $("player"), message: $("message"),
  playableNote: $("playable-note"), cancel: $("upload-cancel"), connection: $("connection"),
  retryBox: $("retry-box"), retry: $("retry"), retryHint: $("retry-hint"), restore: $("restore"),
  chat: $("chat"), bubble: $("bubble"), media: $("media"), placeholder: $("placeholder"),
};

class PulseError extends Error {
  constructor(code, message) { super(message || code); this.code = code; }
}

// ---- state shown on the page -------------------------------------------------------------------
let shownPercent = 0;

function showMessage(code, fallback, kind) {
  let text = MESSAGES[code] || fallback || MESSAGES.ERR_INTERNAL;
  if (LIMIT_CODES.has(code) && fallback) text = `${text} ${sentence(fallback)}`;
  ui.message.textContent = text;
  ui.message.dataset.code = code || "";
  ui.message.className = "message" + (kind ? " " + kind : "");
  ui.message.hidden = false;
}

// "uploads are limited to 10 bytes" -> "Uploads are limited to 10 bytes."
function sentence(text) {
  const trimmed = String(text).trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}

function showUploadProgress(percent) {
  ui.uploadBar.value = percent;
  ui.uploadBar.setAttribute("aria-valuetext", `${percent} % uploaded`);
  ui.uploadPercent.textContent = percent + " %";
}

function setRing(percent) {
  // Never backwards: the service already guarantees it, the page does too.
  shownPercent = Math.max(shownPercent, Math.min(100, percent));
  ui.ringBar.style.strokeDashoffset = String(RING_LENGTH * (1 - shownPercent / 100));
  ui.ringPercent.textContent = String(Math.floor(shownPercent));
  ui.ring.dataset.percent = String(shownPercent);
  ui.ring.setAttribute("aria-valuenow", String(Math.floor(shownPercent)));
  ui.ring.setAttribute("aria-valuetext", `${Math.floor(shownPercent)} % processed`);
  if (shownPercent >= 100) ui.ring.classList.add("done");
}

function setETA(seconds) {
  if (seconds == null || !isFinite(seconds)) { ui.eta.textContent = ""; return; }
  // Coarse steps, so the live region speaks when the estimate moves, not at every event.
  const s = Math.max(0, Math.round(seconds));
  const text = s < 10 ? "A few seconds left" : s < 60 ? `About ${Math.round(s / 5) * 5} s left` : `About ${Math.round(s / 60)} min left`;
  if (ui.eta.textContent !== text) ui.eta.textContent = text;
}

// The placeholder is painted at once; the thumbnail shows once it has loaded (bubble.js).
function showThumbnail(url, placeholder) {
  PulseBubble.placeholder(placeholder);
  if (!url || ui.thumbnail.dataset.src === url) return;
  ui.thumbnail.dataset.src = url;
  ui.thumbnail.src = url;
}

// The finished ladder: the player keeps the URL it already plays (the master playlist's address
// does not change at `ready`; a player that started early finishes on the first rendition).
function play(asset) {
  if (!asset || !asset.playlist_url) return;
  setRing(100);
  ui.status.textContent = "Ready";
  setETA(null);
  ui.playableNote.hidden = true;
  showThumbnail(asset.thumbnail_url, asset.placeholder);
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
  ui.retryBox.hidden = true;
  ui.restore.hidden = true;
  ui.connection.hidden = true;
  ui.thumbnail.hidden = true;
  ui.thumbnail.removeAttribute("src");
  delete ui.thumbnail.dataset.src;
  PulseBubble.reset();
  ui.player.hidden = true;
  ui.player.removeAttribute("src");
  delete ui.player.dataset.src;
  ui.upload.hidden = true;
  ui.cancel.hidden = true;
  ui.processing.hidden = true;
  ui.status.textContent = "Waiting for the worker…";
  showUploadProgress(0);
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

// PUTs the file; `signal` aborts it (Cancel).
function uploadFile(file, upload, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method, upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) showUploadProgress(Math.floor((event.loaded / event.total) * 100));
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        showUploadProgress(100);
        resolve();
        return;
      }
      let code = "ERR_INTERNAL";
      let message;
      try {
        const error = JSON.parse(xhr.responseText).error;
        code = error.code || code;
        message = error.message;
      } catch (e) {
        if (xhr.status === 413) code = "ERR_UPLOAD_TOO_LARGE";
        if (xhr.status === 403) code = "ERR_INVALID_SIGNATURE";
      }
      reject(new PulseError(code, message));
    };
    xhr.onerror = () => reject(new PulseError("ERR_NETWORK"));
    xhr.onabort = () => reject(new PulseError("ERR_CANCELLED"));
    signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

// What the socket (or a `GET` after a dropped connection) says while the asset is not finished.
function onEvent(event) {
  switch (event.type) {
    case "snapshot": {
      const asset = event.asset;
      setRing(asset.progress || 0);
      showThumbnail(asset.thumbnail_url, asset.placeholder);
      if (asset.status === "queued") ui.status.textContent = "Queued…";
      if (asset.status === "processing") ui.status.textContent = "Processing…";
      if (asset.status === "processing" && asset.playlist_url) playEarly(asset.playlist_url, asset.thumbnail_url);
      break;
    }
    case "status":
      if (event.status === "processing") ui.status.textContent = "Processing…";
      break;
    case "thumbnail_ready":
      showThumbnail(event.thumbnail_url, event.placeholder);
      break;
    case "playable":
      playEarly(event.playlist_url, ui.thumbnail.src || null);
      break;
    case "progress":
      ui.status.textContent = "Processing…";
      setRing(event.percent);
      setETA(event.eta_seconds);
      break;
  }
}

// ---- the current asset, kept across reloads -----------------------------------------------------
// {id, token, name, size, kind: "put" | "multipart", step: "upload" | "processing"}
const saved = () => { try { return JSON.parse(localStorage.getItem(SAVED) || "null"); } catch (e) { return null; } };
const remember = (record) => localStorage.setItem(SAVED, JSON.stringify(record));
const forgetSaved = () => localStorage.removeItem(SAVED);

// Drops the saved asset before a new upload; one whose single PUT never finished holds nothing
// and is deleted (the API key may; a multipart one is multipart.js's to resume or discard).
async function dropSaved(apiKey) {
  const record = saved();
  forgetSaved();
  if (record && record.kind === "put" && record.step === "upload") {
    await api("DELETE", `/v1/assets/${record.id}`, { bearer: apiKey }).catch(() => {});
  }
}

// ---- one upload, step by step -------------------------------------------------------------------
// What a Retry needs: the file (held in memory), the step that failed and the asset so far.
let attempt = null;

// Runs the upload from `attempt.step` on: "create" (a fresh asset) | "complete" | "processing".
async function run() {
  const current = attempt;
  const { file } = current;
  const apiKey = (ui.key.value || "").trim();
  try {
    if (current.step === "create") {
      await dropSaved(apiKey);
      if (typeof PulseMultipart !== "undefined" && PulseMultipart.wants(file)) {
        // Big files go up in resumable parts (multipart.js): create or resume, parts, complete.
        current.kind = "multipart";
        current.asset = await PulseMultipart.upload(file, apiKey);
        current.step = "processing";
      } else {
        current.kind = "put";
        const asset = await api("POST", "/v1/assets", {
          bearer: apiKey,
          body: { filename: file.name, size: file.size, content_type: file.type || "application/octet-stream" },
        });
        current.asset = { id: asset.id, token: asset.token };
        remember({ ...current.asset, name: file.name, size: file.size, kind: "put", step: "upload" });
        ui.upload.hidden = false;
        ui.upload.dataset.assetId = asset.id;
        await uploadWithCancel(file, asset.upload, current);
        current.step = "complete";
      }
    }
    if (current.step === "complete") {
      // From here on only the asset's own token is used.
      await api("POST", `/v1/assets/${current.asset.id}/complete`, { bearer: current.asset.token });
      current.step = "processing";
    }
    remember({ ...current.asset, name: file.name, size: file.size, kind: current.kind, step: "processing" });
    await follow(current);
  } catch (error) {
    if (attempt !== current) return;  // a newer upload took over
    fail(error, current);
  }
}

async function uploadWithCancel(file, upload, current) {
  ui.cancel.hidden = false;
  ui.cancel.onclick = async () => {
    ui.cancel.hidden = true;
    current.controller.abort();
    forgetSaved();
    // The asset exists only for this upload: delete it (the asset token may not; the API key may).
    await api("DELETE", `/v1/assets/${current.asset.id}`, { bearer: (ui.key.value || "").trim() }).catch(() => {});
    ui.upload.dataset.deleted = current.asset.id;
  };
  try {
    await uploadFile(file, upload, current.controller.signal);
  } finally {
    ui.cancel.hidden = true;
  }
}

async function follow(current) {
  const asset = current.asset;
  PulseBubble.open();
  ui.processing.hidden = false;
  if (ui.status.textContent === "Waiting for the worker…") ui.status.textContent = "Queued…";
  const ready = await PulseEvents.follow(asset.id, asset.token, onEvent, current.controller.signal);
  play(ready || await api("GET", `/v1/assets/${asset.id}`, { bearer: asset.token }));
}

// Shows the failure and, when the file is held and trying again can help, a Retry that re-runs
// the failed step: the upload to a fresh asset, the complete, or, after a processing failure, the
// whole upload again as a new video (the service does not reprocess a failed asset).
function fail(error, current) {
  showMessage(error.code, error.message);
  ui.status.textContent = "Failed";
  setETA(null);
  if (error.code === "ERR_ASSET_DELETED") forgetSaved();
  if (FINAL_CODES.has(error.code) || error.code === "ERR_ASSET_DELETED") return;
  ui.retryBox.hidden = false;
  ui.retry.hidden = !current.file;
  if (!current.file) {
    // After a reload the file is no longer held.
    ui.retryHint.textContent = "Choose the file again to upload it anew.";
  } else if (current.step === "processing") {
    ui.retry.textContent = "Upload again";
    ui.retryHint.textContent = "Processing did not finish on the service. Retrying uploads this file again as a new video.";
    current.step = "create";
  } else {
    ui.retry.textContent = "Retry";
    ui.retryHint.textContent = current.step === "complete"
      ? "The file is uploaded; Retry asks the service again to start processing it."
      : "Retry uploads the same file again; no need to choose it again.";
    // A failed single PUT starts over on a fresh asset (dropSaved deletes the unfinished one);
    // multipart.js resumes its own upload.
  }
}

function start(file) {
  reset();
  const apiKey = (ui.key.value || "").trim();
  if (!apiKey) {
    showMessage(null, "Enter the API key first: creating an upload needs it.", "info");
    ui.key.focus();
    return;
  }
  ui.fileName.textContent = `${file.name} (${(file.size / 1048576).toFixed(1)} MB)`;
  begin({ file, step: "create", asset: null, kind: null });
  run();
}

// Makes `current` the one upload the page shows; the one before stops (its PUT, its socket).
function begin(current) {
  if (attempt) attempt.controller.abort();
  current.controller = new AbortController();
  attempt = current;
}

function retry() {
  if (!attempt || !attempt.file) return;
  const { file, step, asset, kind } = attempt;
  reset();
  ui.fileName.textContent = `${file.name} (${(file.size / 1048576).toFixed(1)} MB)`;
  begin({ file, step, asset, kind });
  run();
}

// ---- after a reload: the saved asset's state ----------------------------------------------------
async function restore() {
  const record = saved();
  if (!record) return;
  let asset;
  try {
    asset = await api("GET", `/v1/assets/${record.id}`, { bearer: record.token });
  } catch (error) {
    // Deleted, or its token is over: nothing left to show. An outage: try at the next load.
    if (["ERR_NOT_FOUND", "ERR_TOKEN_EXPIRED", "ERR_UNAUTHORIZED", "ERR_FORBIDDEN"].includes(error.code)) forgetSaved();
    return;
  }
  if (attempt) return;  // a new upload started meanwhile
  ui.fileName.textContent = `${record.name} (${(record.size / 1048576).toFixed(1)} MB)`;
  if (asset.status === "awaiting_upload") {
    ui.restore.textContent = `The upload of ${record.name} did not finish. Choose the file again to upload it.`;
    ui.restore.hidden = false;
    return;
  }
  const current = { file: null, step: "processing", asset: { id: record.id, token: record.token }, kind: record.kind };
  begin(current);
  try {
    await follow(current);
  } catch (error) {
    if (attempt === current) fail(error, current);
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
ui.retry.addEventListener("click", retry);
// After every script (events.js, multipart.js) has loaded.
document.addEventListener("DOMContentLoaded", restore);
