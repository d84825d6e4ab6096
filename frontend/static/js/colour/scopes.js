// Scopes of the picture on screen (the graded one): waveform (luma by column), RGB parade,
// vectorscope (Rec. 709 Cb/Cr) and histogram, computed from a downsampled readback (256 px wide)
// and drawn into a small canvas. `drawScope(canvas, source, kind)`; the panel throttles it.

export const SCOPES = { waveform: "Waveform", parade: "RGB parade", vectorscope: "Vectorscope", histogram: "Histogram" };
const SAMPLE_WIDTH = 256;
const SIZE = 256; // the scope's own resolution (square)

let sampler = null;

/** The picture's pixels at 256 px wide (RGBA bytes), read back through a 2D canvas. */
export function samplePixels(source) {
  const width = SAMPLE_WIDTH;
  const height = Math.max(1, Math.round((source.height / source.width) * width));
  if (!sampler) sampler = document.createElement("canvas");
  if (sampler.width !== width || sampler.height !== height) { sampler.width = width; sampler.height = height; }
  const ctx = sampler.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return { width, height, data: ctx.getImageData(0, 0, width, height).data };
}

function plot(image, x, y, rgb, gain) {
  if (x < 0 || y < 0 || x >= SIZE || y >= SIZE) return;
  const i = (y * SIZE + x) * 4;
  const d = image.data;
  d[i] = Math.min(255, d[i] + rgb[0] * gain);
  d[i + 1] = Math.min(255, d[i + 1] + rgb[1] * gain);
  d[i + 2] = Math.min(255, d[i + 2] + rgb[2] * gain);
  d[i + 3] = 255;
}

function graticule(ctx, kind) {
  ctx.strokeStyle = "rgba(255,255,255,0.18)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  if (kind === "vectorscope") {
    ctx.arc(SIZE / 2, SIZE / 2, SIZE * 0.45, 0, Math.PI * 2);
    ctx.moveTo(SIZE / 2, 0); ctx.lineTo(SIZE / 2, SIZE);
    ctx.moveTo(0, SIZE / 2); ctx.lineTo(SIZE, SIZE / 2);
  } else {
    for (const level of [0, 0.25, 0.5, 0.75, 1]) {
      const y = Math.round((1 - level) * (SIZE - 1)) + 0.5;
      ctx.moveTo(0, y); ctx.lineTo(SIZE, y);
    }
    if (kind === "parade") for (const x of [SIZE / 3, (2 * SIZE) / 3]) { ctx.moveTo(x, 0); ctx.lineTo(x, SIZE); }
  }
  ctx.stroke();
}

/** Draw scope `kind` of `source` (image, bitmap or canvas) into `canvas`. Returns the sample used. */
export function drawScope(canvas, source, kind) {
  if (canvas.width !== SIZE || canvas.height !== SIZE) { canvas.width = SIZE; canvas.height = SIZE; }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIZE, SIZE);
  const { width, height, data } = samplePixels(source);
  const count = width * height;
  const gain = Math.max(8, Math.round((40 * SIZE * SIZE) / count / 4));
  if (kind === "histogram") {
    const bins = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
    for (let i = 0; i < data.length; i += 4) { bins[0][data[i]] += 1; bins[1][data[i + 1]] += 1; bins[2][data[i + 2]] += 1; }
    let peak = 1;
    for (const channel of bins) for (let v = 1; v < 255; v += 1) peak = Math.max(peak, channel[v]);
    const colours = [[255, 60, 60], [60, 220, 60], [70, 110, 255]];
    for (let c = 0; c < 3; c += 1) {
      for (let v = 0; v < 256; v += 1) {
        const top = SIZE - Math.min(SIZE, Math.round((bins[c][v] / peak) * (SIZE - 4)));
        for (let y = top; y < SIZE; y += 1) plot(image, v, y, colours[c], 0.5);
      }
    }
  } else {
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const i = (y * width + x) * 4;
        const r = data[i] / 255; const g = data[i + 1] / 255; const b = data[i + 2] / 255;
        if (kind === "waveform") {
          const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
          plot(image, Math.floor((x / width) * SIZE), Math.round((1 - luma) * (SIZE - 1)), [180, 230, 180], gain / 8);
        } else if (kind === "parade") {
          const column = Math.floor((x / width) * (SIZE / 3));
          plot(image, column, Math.round((1 - r) * (SIZE - 1)), [255, 70, 70], gain / 8);
          plot(image, column + Math.floor(SIZE / 3), Math.round((1 - g) * (SIZE - 1)), [70, 255, 70], gain / 8);
          plot(image, column + Math.floor((2 * SIZE) / 3), Math.round((1 - b) * (SIZE - 1)), [90, 130, 255], gain / 8);
        } else {
          const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
          const cb = (b - luma) / 1.8556;
          const cr = (r - luma) / 1.5748;
          plot(image, Math.round(SIZE / 2 + cb * SIZE * 0.9), Math.round(SIZE / 2 - cr * SIZE * 0.9),
            [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)], gain / 64 + 0.3);
        }
      }
    }
  }
  ctx.fillStyle = "#0b0c0e";
  ctx.fillRect(0, 0, SIZE, SIZE);
  // Keep the scope's dark background where nothing was plotted.
  for (let i = 0; i < image.data.length; i += 4) if (image.data[i + 3] === 0) { image.data[i] = 11; image.data[i + 1] = 12; image.data[i + 2] = 14; image.data[i + 3] = 255; }
  ctx.putImageData(image, 0, 0);
  graticule(ctx, kind);
  canvas.dataset.scope = kind;
  canvas.dataset.drawn = String((Number(canvas.dataset.drawn) || 0) + 1);
  return { width, height };
}
