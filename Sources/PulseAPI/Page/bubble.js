// The chat bubble, as Pulse Chat shows a video message while it is processed: the placeholder
// (the thumbnail's BlurHash) painted the moment it is known, then the thumbnail with the progress
// ring over it, then the video playing in the same place. The bubble takes the thumbnail's shape
// within a phone-sized box. Its current stage is `data-stage` on #bubble and the stages it went
// through, in order, `data-stages` (pending, placeholder, thumbnail, playing). Loaded after app.js
// (its `ui`) and blurhash.js.
"use strict";

const PulseBubble = (() => {
  const MAX_WIDTH = 300;
  const MAX_HEIGHT = 400;
  const ORDER = ["pending", "placeholder", "thumbnail", "playing"];

  // Stages only move forward: a late thumbnail does not cover a playing video.
  function stage(name) {
    const current = ui.bubble.dataset.stage;
    if (current && ORDER.indexOf(name) <= ORDER.indexOf(current)) return;
    ui.bubble.dataset.stage = name;
    ui.bubble.dataset.stages = ((ui.bubble.dataset.stages || "") + " " + name).trim();
  }

  // The bubble appears as processing begins; the upload bar has done its work and goes.
  function open() {
    ui.chat.hidden = false;
    ui.upload.hidden = true;
    stage("pending");
  }

  // The media box takes the picture's proportions, at most MAX_WIDTH x MAX_HEIGHT.
  function shape(width, height) {
    if (!width || !height) return;
    const scale = Math.min(MAX_WIDTH / width, MAX_HEIGHT / height);
    ui.media.style.width = Math.round(width * scale) + "px";
    ui.media.style.aspectRatio = `${width} / ${height}`;
  }

  function placeholder(hash) {
    if (!hash || ui.placeholder.dataset.hash === hash) return;
    if (!PulseBlurHash.paint(ui.placeholder, hash)) return;
    ui.placeholder.dataset.hash = hash;
    ui.placeholder.hidden = false;
    stage("placeholder");
  }

  function thumbnailLoaded() {
    shape(ui.thumbnail.naturalWidth, ui.thumbnail.naturalHeight);
    ui.thumbnail.hidden = false;
    stage("thumbnail");
  }

  // The video plays in place: the ring overlay goes, the status line below says the rest.
  function playing() {
    shape(ui.player.videoWidth, ui.player.videoHeight);
    ui.processing.hidden = true;
    stage("playing");
  }

  function reset() {
    ui.chat.hidden = true;
    delete ui.bubble.dataset.stage;
    delete ui.bubble.dataset.stages;
    ui.placeholder.hidden = true;
    delete ui.placeholder.dataset.hash;
    ui.media.style.width = "";
    ui.media.style.aspectRatio = "";
  }

  ui.thumbnail.addEventListener("load", thumbnailLoaded);
  ui.player.addEventListener("playing", playing);

  return { open, placeholder, reset };
})();
