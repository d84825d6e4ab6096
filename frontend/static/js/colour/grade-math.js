// The grade's maths in plain JavaScript: the ASC CDL (clamp, power, saturation around Rec. 709
// luma, clamp), then the 3D LUT (domain, clamp, trilinear lookup between lattice points), exactly
// as docs/API.md "The LUT for a browser preview" and the engine (restoration/colour/) apply them.
// The WebGL renderer (grade-gl.js) runs the same maths on the GPU; this module is its reference
// (the browser tests compare the two, and both with the engine's numbers), and parses the
// /api/grades/<id>/lut/ payload.

export const IDENTITY_CDL = Object.freeze({
  slope: [1, 1, 1], offset: [0, 0, 0], power: [1, 1, 1], saturation: 1,
});

// The engine's limits (restoration/colour/cdl.py, docs/API.md "Grades"): slope 0..100, offset
// -10..10, power above 0 up to 100, saturation 0..100. The panel's sliders span a useful part.
export const CDL_LIMITS = Object.freeze({
  slope: { min: 0, max: 100 }, offset: { min: -10, max: 10 }, power: { min: 1e-6, max: 100 },
  saturation: { min: 0, max: 100 },
});

const LUMA = [0.2126, 0.7152, 0.0722];
const clamp01 = (value) => Math.min(Math.max(value, 0), 1);

export function cloneCdl(cdl = IDENTITY_CDL) {
  return { slope: [...cdl.slope], offset: [...cdl.offset], power: [...cdl.power], saturation: Number(cdl.saturation) };
}

export function cdlEquals(a, b, tolerance = 1e-9) {
  for (const key of ["slope", "offset", "power"]) {
    for (let i = 0; i < 3; i += 1) if (Math.abs(a[key][i] - b[key][i]) > tolerance) return false;
  }
  return Math.abs(a.saturation - b.saturation) <= tolerance;
}

/** A CDL within the engine's limits (finite numbers, three per triple), or an Error naming the field. */
export function cdlCheck(cdl) {
  if (!cdl || typeof cdl !== "object") return new Error("a CDL is an object");
  for (const key of ["slope", "offset", "power"]) {
    const values = cdl[key];
    if (!Array.isArray(values) || values.length !== 3) return new Error(`${key} needs three numbers`);
    for (const value of values) {
      const { min, max } = CDL_LIMITS[key];
      if (!Number.isFinite(value) || value < min || value > max) return new Error(`${key} ${value} is out of range`);
    }
  }
  const { min, max } = CDL_LIMITS.saturation;
  if (!Number.isFinite(cdl.saturation) || cdl.saturation < min || cdl.saturation > max) {
    return new Error(`saturation ${cdl.saturation} is out of range`);
  }
  return null;
}

/** The ASC CDL applied to one RGB triple in 0..1. */
export function cdlApply(rgb, cdl) {
  const sop = [0, 1, 2].map((c) => clamp01(rgb[c] * cdl.slope[c] + cdl.offset[c]) ** cdl.power[c]);
  const luma = sop[0] * LUMA[0] + sop[1] * LUMA[1] + sop[2] * LUMA[2];
  return sop.map((v) => clamp01(luma + cdl.saturation * (v - luma)));
}

/** The identity LUT (what the API sends for a grade without one). */
export function identityLut(size = 33) {
  const table = new Float32Array(size * size * size * 3);
  let i = 0;
  for (let b = 0; b < size; b += 1) {
    for (let g = 0; g < size; g += 1) {
      for (let r = 0; r < size; r += 1) {
        table[i] = r / (size - 1); table[i + 1] = g / (size - 1); table[i + 2] = b / (size - 1);
        i += 3;
      }
    }
  }
  return { size, table, domainMin: [0, 0, 0], domainMax: [1, 1, 1], cdl: null, grade: null, identity: true };
}

/**
 * The /api/grades/<id>/lut/ payload: a 4-byte big-endian header length, the JSON header (padded
 * so the table starts on a multiple of 4), then size^3 RGB float32 little-endian, red fastest.
 */
export function parseLut(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 4) throw new Error("LUT payload too short");
  const headerLength = view.getUint32(0, false);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  const size = Number(header.size);
  const count = size * size * size * 3;
  const offset = 4 + headerLength;
  if (!Number.isInteger(size) || size < 2 || buffer.byteLength - offset !== count * 4) {
    throw new Error(`LUT payload: expected ${count} floats after the header`);
  }
  let table;
  const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (offset % 4 === 0 && littleEndianHost) {
    table = new Float32Array(buffer, offset, count);
  } else {
    table = new Float32Array(count);
    for (let i = 0; i < count; i += 1) table[i] = view.getFloat32(offset + i * 4, true);
  }
  return {
    size, table, domainMin: header.domain_min || [0, 0, 0], domainMax: header.domain_max || [1, 1, 1],
    cdl: header.cdl || null, grade: header.grade ?? null, baked: Boolean(header.baked), identity: false,
  };
}

/** The LUT applied to one RGB triple: domain to 0..1, clamp, trilinear between lattice points. */
export function lutApply(rgb, lut) {
  const n = lut.size;
  const t = lut.table;
  const pos = [0, 1, 2].map((c) => clamp01((rgb[c] - lut.domainMin[c]) / (lut.domainMax[c] - lut.domainMin[c])) * (n - 1));
  const base = pos.map((p) => Math.min(Math.floor(p), n - 2));
  const frac = pos.map((p, c) => p - base[c]);
  const out = [0, 0, 0];
  for (let corner = 0; corner < 8; corner += 1) {
    const dr = corner & 1; const dg = (corner >> 1) & 1; const db = (corner >> 2) & 1;
    const weight = (dr ? frac[0] : 1 - frac[0]) * (dg ? frac[1] : 1 - frac[1]) * (db ? frac[2] : 1 - frac[2]);
    if (weight === 0) continue;
    const index = 3 * ((base[0] + dr) + n * (base[1] + dg) + n * n * (base[2] + db));
    out[0] += weight * t[index]; out[1] += weight * t[index + 1]; out[2] += weight * t[index + 2];
  }
  return out;
}

/** The whole grade (CDL, then LUT if any) on one RGB triple in 0..1. */
export function gradeApply(rgb, cdl, lut = null) {
  const graded = cdlApply(rgb, cdl || IDENTITY_CDL);
  return lut && !lut.identity ? lutApply(graded, lut) : graded;
}
