// BlurHash decoding (https://blurha.sh, Wolt's algorithm): the asset's `placeholder` into pixels,
// painted on a small canvas that CSS stretches over the bubble, so the bubble shows the video's
// colours before any image is fetched. Plain JavaScript, no build; loaded before bubble.js.
"use strict";

const PulseBlurHash = (() => {
  const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function decode83(text) {
    let value = 0;
    for (const character of text) {
      const digit = DIGITS.indexOf(character);
      if (digit < 0) return NaN;
      value = value * 83 + digit;
    }
    return value;
  }

  const toLinear = (value) => {
    const v = value / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const toSRGB = (value) => {
    const v = Math.max(0, Math.min(1, value));
    return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255);
  };
  const signedSquare = (value) => Math.sign(value) * value * value;

  // RGBA pixels (width x height) of `hash`, or null when it is not a BlurHash.
  function decode(hash, width, height) {
    if (typeof hash !== "string" || hash.length < 6) return null;
    const size = decode83(hash[0]);
    const columns = (size % 9) + 1;
    const rows = Math.floor(size / 9) + 1;
    if (hash.length !== 4 + 2 * columns * rows) return null;
    const largest = (decode83(hash[1]) + 1) / 166;
    const dc = decode83(hash.slice(2, 6));
    if (!isFinite(largest) || !isFinite(dc)) return null;
    const colours = [[toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]];
    for (let index = 1; index < columns * rows; index++) {
      const value = decode83(hash.slice(4 + index * 2, 6 + index * 2));
      if (!isFinite(value)) return null;
      const ac = (quantised) => signedSquare((quantised - 9) / 9) * largest;
      colours.push([ac(Math.floor(value / 361)), ac(Math.floor(value / 19) % 19), ac(value % 19)]);
    }
    const pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0, g = 0, b = 0;
        for (let j = 0; j < rows; j++) {
          for (let i = 0; i < columns; i++) {
            const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
            const colour = colours[i + j * columns];
            r += colour[0] * basis;
            g += colour[1] * basis;
            b += colour[2] * basis;
          }
        }
        const at = 4 * (x + y * width);
        pixels[at] = toSRGB(r);
        pixels[at + 1] = toSRGB(g);
        pixels[at + 2] = toSRGB(b);
        pixels[at + 3] = 255;
      }
    }
    return pixels;
  }

  // Paints `hash` over the whole `canvas`; false when it is not a BlurHash.
  function paint(canvas, hash) {
    const pixels = decode(hash, canvas.width, canvas.height);
    if (!pixels) return false;
    const context = canvas.getContext("2d");
    const image = context.createImageData(canvas.width, canvas.height);
    image.data.set(pixels);
    context.putImageData(image, 0, 0);
    return true;
  }

  return { decode, paint };
})();
