// Resumable uploads for big files (64 MiB or more): the file goes up in parts, 4 at a time, each
// part retried with backoff; a Cancel button aborts the upload (DELETE .../upload); after a
// reload the page offers to resume it (asset id and token, with the file's name, size and date,
// are kept in localStorage) and, once the same file is chosen again, uploads only the parts the
// service does not hold (GET .../upload/parts), then completes. Loaded after app.js, whose
// `api`, `ui` (with the Cancel button), `PulseError` and `showUploadProgress` it uses; app.js calls
// `PulseMultipart.wants(file)` and `PulseMultipart.upload(file, apiKey)`.
"use strict";

const PulseMultipart = (() => {
  const THRESHOLD = 64 * 1024 * 1024;
  const IN_FLIGHT = 4;
  const ATTEMPTS = 6;           // per part: 1 s, 2 s, 4 s, 8 s, 16 s between them (with jitter)
  const URL_BATCH = 100;        // the most part URLs one request may ask for
  const SAVED = "pulse.multipart";

  // ---- the unfinished upload, kept across reloads ----------------------------------------------
  const saved = () => { try { return JSON.parse(localStorage.getItem(SAVED) || "null"); } catch (e) { return null; } };
  const save = (record) => localStorage.setItem(SAVED, JSON.stringify(record));
  const forget = () => { localStorage.removeItem(SAVED); banner.hidden = true; };
  const sameFile = (record, file) => record && record.name === file.name && record.size === file.size && record.lastModified === file.lastModified;

  // ---- the page's extra controls -----------------------------------------------------------------
  const banner = document.createElement("div");
  banner.id = "resume";
  banner.className = "message info";
  banner.hidden = true;
  banner.setAttribute("role", "status");
  const bannerText = document.createElement("span");
  const discard = document.createElement("button");
  discard.type = "button";
  discard.id = "resume-discard";
  discard.className = "secondary";
  discard.textContent = "Discard";
  banner.append(bannerText, " ", discard);
  ui.fileName.after(banner);

  const cancel = ui.cancel;

  function offerResume() {
    const record = saved();
    if (!record) return;
    bannerText.textContent = `An upload of ${record.name} (${(record.size / 1048576).toFixed(1)} MB) did not finish. ` +
      "Choose the same file again to resume it.";
    banner.hidden = false;
  }

  discard.addEventListener("click", async () => {
    const record = saved();
    forget();
    if (record) await api("DELETE", `/v1/assets/${record.id}/upload`, { bearer: record.token }).catch(() => {});
  });

  // ---- the upload --------------------------------------------------------------------------------
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  const showProgress = (done, total) => showUploadProgress(Math.floor((done / total) * 100));

  // PUTs one part; resolves with its ETag (null when the store's CORS hides it).
  function putPart(part, blob, onProgress, signal) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(part.method, part.url);
      for (const [name, value] of Object.entries(part.headers || {})) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr.getResponseHeader("ETag")); return; }
        let code = "ERR_INTERNAL";
        try { code = JSON.parse(xhr.responseText).error.code || code; } catch (e) { /* S3's XML */ }
        const error = new PulseError(code);
        // 4xx other than an expired URL will not get better by sending the same again.
        error.retry = xhr.status >= 500 || xhr.status === 429 || code === "ERR_URL_EXPIRED" || xhr.status === 403;
        reject(error);
      };
      xhr.onerror = () => { const error = new PulseError("ERR_NETWORK"); error.retry = true; reject(error); };
      xhr.onabort = () => reject(new PulseError("ERR_CANCELLED"));
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(blob);
    });
  }

  async function partURLs(record, numbers) {
    const urls = new Map();
    for (let i = 0; i < numbers.length; i += URL_BATCH) {
      const answer = await api("POST", `/v1/assets/${record.id}/upload/parts`,
        { bearer: record.token, body: { part_numbers: numbers.slice(i, i + URL_BATCH) } });
      for (const part of answer.parts) urls.set(part.part_number, part);
    }
    return urls;
  }

  // Uploads `missing` parts, IN_FLIGHT at a time; returns their ETags by part number.
  async function sendParts(file, record, missing, alreadyDone, signal) {
    const etags = new Map();
    const loaded = new Map();
    let doneBytes = alreadyDone;
    const report = () => showProgress(doneBytes + [...loaded.values()].reduce((a, b) => a + b, 0), file.size);
    let urls = await partURLs(record, missing);
    const queue = [...missing];

    async function one(number) {
      const start = (number - 1) * record.partSize;
      const blob = file.slice(start, Math.min(start + record.partSize, file.size));
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) throw new PulseError("ERR_CANCELLED");
        try {
          const etag = await putPart(urls.get(number), blob, (bytes) => { loaded.set(number, bytes); report(); }, signal);
          loaded.delete(number);
          doneBytes += blob.size;
          report();
          return etag;
        } catch (error) {
          loaded.delete(number);
          if (!error.retry || attempt >= ATTEMPTS || signal.aborted) throw error;
          await sleep(1000 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
          // A fresh URL: the old one may have expired meanwhile.
          urls = new Map([...urls, ...await partURLs(record, [number])]);
        }
      }
    }

    async function worker() {
      while (queue.length) {
        const number = queue.shift();
        etags.set(number, await one(number));
      }
    }
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, queue.length) }, worker));
    return etags;
  }

  // Create (or resume), send what is missing, complete. Resolves with the asset ({id, token}).
  async function upload(file, apiKey) {
    let record = saved();
    let stored = [];
    if (sameFile(record, file)) {
      try {
        stored = (await api("GET", `/v1/assets/${record.id}/upload/parts`, { bearer: record.token })).parts;
      } catch (error) {
        // Gone, finished, expired: start anew.
        record = null;
      }
    } else {
      record = null;
    }
    banner.hidden = true;
    if (!record) {
      const asset = await api("POST", "/v1/assets", {
        bearer: apiKey,
        body: { filename: file.name, size: file.size, content_type: file.type || "application/octet-stream", upload_type: "multipart" },
      });
      record = { id: asset.id, token: asset.token, name: file.name, size: file.size, lastModified: file.lastModified,
                 partSize: asset.upload.part_size, partCount: asset.upload.part_count };
      save(record);
    }
    ui.upload.hidden = false;
    ui.upload.dataset.assetId = record.id;
    ui.upload.dataset.resumedParts = String(stored.length);

    const controller = new AbortController();
    const current = record;
    cancel.hidden = false;
    cancel.onclick = async () => {
      controller.abort();
      forget();
      await api("DELETE", `/v1/assets/${current.id}/upload`, { bearer: current.token }).catch(() => {});
    };
    try {
      const have = new Map(stored.map((part) => [part.part_number, part]));
      const missing = [];
      for (let n = 1; n <= record.partCount; n++) if (!have.has(n)) missing.push(n);
      const done = stored.reduce((sum, part) => sum + part.size, 0);
      showProgress(done, file.size);
      const sent = await sendParts(file, record, missing, done, controller.signal);
      // ETags the store's CORS did not let us read come from the service's list.
      if ([...sent.values()].some((etag) => !etag)) {
        const listed = (await api("GET", `/v1/assets/${record.id}/upload/parts`, { bearer: record.token })).parts;
        for (const part of listed) if (!sent.get(part.part_number)) sent.set(part.part_number, part.etag);
      }
      const parts = [];
      for (let n = 1; n <= record.partCount; n++) parts.push({ part_number: n, etag: sent.get(n) || have.get(n).etag });
      cancel.hidden = true;
      await api("POST", `/v1/assets/${record.id}/complete`, { bearer: record.token, body: { parts } });
      forget();
      return { id: record.id, token: record.token };
    } catch (error) {
      if (controller.signal.aborted) throw new PulseError("ERR_CANCELLED");
      // Kept for a resume, unless the service says the upload is over.
      if (["ERR_NOT_FOUND", "ERR_UPLOAD_EXPIRED", "ERR_CONFLICT", "ERR_UPLOAD_NOT_FOUND"].includes(error.code)) forget();
      else offerResume();
      throw error;
    } finally {
      cancel.hidden = true;
    }
  }

  offerResume();
  return { wants: (file) => file.size >= THRESHOLD, upload };
})();
