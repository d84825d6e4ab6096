// Grading a picture on the GPU (WebGL2): the ASC CDL as uniforms and the grade's 3D LUT as a
// 3D texture, so moving a control repaints at display rate. The maths are docs/API.md's (and
// grade-math.js's, the reference): clamp, power, saturation on Rec. 709 luma, clamp, then the
// LUT's domain, clamp, and a trilinear lookup at texel centres.
//
//   const renderer = new GradeRenderer();          // its own canvas (renderer.canvas)
//   renderer.render(bitmap, {cdl, lut})            // -> renderer.canvas, the graded picture
//   renderer.readPixels()                          // RGBA bytes of the last render (tests, scopes)
//
// The LUT is RGB32F with LINEAR filtering where OES_texture_float_linear exists, otherwise RGB16F
// (filterable everywhere; far finer than 8-bit output). A source texture is uploaded only when
// the picture changes, so dragging a control costs one draw.

import { IDENTITY_CDL, identityLut } from "./grade-math.js";

const VERTEX = `#version 300 es
in vec2 position;
out vec2 uv;
void main() {
  uv = vec2((position.x + 1.0) * 0.5, (1.0 - position.y) * 0.5);
  gl_Position = vec4(position, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision highp float;
precision highp sampler3D;
in vec2 uv;
uniform sampler2D picture;
uniform sampler3D lut;
uniform vec3 slope;
uniform vec3 offset;
uniform vec3 power;
uniform float saturation;
uniform vec3 domainMin;
uniform vec3 domainMax;
uniform float lutSize;
uniform bool useLut;
out vec4 colour;
void main() {
  vec4 texel = texture(picture, uv);
  vec3 sop = pow(clamp(texel.rgb * slope + offset, 0.0, 1.0), power);
  float luma = dot(sop, vec3(0.2126, 0.7152, 0.0722));
  vec3 graded = clamp(luma + saturation * (sop - luma), 0.0, 1.0);
  if (useLut) {
    vec3 x = clamp((graded - domainMin) / (domainMax - domainMin), 0.0, 1.0);
    graded = texture(lut, (x * (lutSize - 1.0) + 0.5) / lutSize).rgb;
  }
  colour = vec4(clamp(graded, 0.0, 1.0), texel.a);
}`;

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error(`grade shader: ${gl.getShaderInfoLog(shader)}`);
  }
  return shader;
}

/** Whether this browser can grade on the GPU (WebGL2). */
export function webgl2Available() {
  try {
    return Boolean(document.createElement("canvas").getContext("webgl2"));
  } catch {
    return false;
  }
}

export class GradeRenderer {
  constructor(canvas = document.createElement("canvas")) {
    this.canvas = canvas;
    const gl = canvas.getContext("webgl2", {
      premultipliedAlpha: false, preserveDrawingBuffer: true, antialias: false, depth: false, stencil: false,
    });
    if (!gl) throw new Error("WebGL2 is not available");
    this.gl = gl;
    this.floatLinear = Boolean(gl.getExtension("OES_texture_float_linear"));
    this.lutFormat = this.floatLinear ? "RGB32F" : "RGB16F";
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`grade program: ${gl.getProgramInfoLog(program)}`);
    this.program = program;
    this.uniforms = {};
    for (const name of ["picture", "lut", "slope", "offset", "power", "saturation", "domainMin", "domainMax",
      "lutSize", "useLut"]) {
      this.uniforms[name] = gl.getUniformLocation(program, name);
    }
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    const location = gl.getAttribLocation(program, "position");
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, 2, gl.FLOAT, false, 0, 0);

    this.pictureTexture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.pictureTexture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.lutTexture = gl.createTexture();
    this._picture = null;
    this._lut = null;
    this.setLut(identityLut(2));
  }

  /** Upload a LUT (from grade-math.js's parseLut or identityLut); the same object is not uploaded twice. */
  setLut(lut) {
    if (lut === this._lut) return;
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_3D, this.lutTexture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage3D(gl.TEXTURE_3D, 0, gl[this.lutFormat], lut.size, lut.size, lut.size, 0, gl.RGB, gl.FLOAT, lut.table);
    gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_3D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    for (const wrap of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T, gl.TEXTURE_WRAP_R]) {
      gl.texParameteri(gl.TEXTURE_3D, wrap, gl.CLAMP_TO_EDGE);
    }
    this._lut = lut;
  }

  /** Grade `source` (an ImageBitmap, image or canvas) onto this.canvas at the source's size. */
  render(source, { cdl = IDENTITY_CDL, lut = null, force = false } = {}) {
    const gl = this.gl;
    const width = source.width;
    const height = source.height;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    gl.useProgram(this.program);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.pictureTexture);
    if (force || source !== this._picture || source instanceof HTMLCanvasElement) {
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
      gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
      gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, source);
      this._picture = source;
    }
    const useLut = Boolean(lut && !lut.identity);
    if (useLut) this.setLut(lut);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_3D, this.lutTexture);
    const u = this.uniforms;
    gl.uniform1i(u.picture, 0);
    gl.uniform1i(u.lut, 1);
    gl.uniform3fv(u.slope, cdl.slope);
    gl.uniform3fv(u.offset, cdl.offset);
    gl.uniform3fv(u.power, cdl.power);
    gl.uniform1f(u.saturation, cdl.saturation);
    gl.uniform3fv(u.domainMin, useLut ? lut.domainMin : [0, 0, 0]);
    gl.uniform3fv(u.domainMax, useLut ? lut.domainMax : [1, 1, 1]);
    gl.uniform1f(u.lutSize, useLut ? lut.size : 2);
    gl.uniform1i(u.useLut, useLut ? 1 : 0);
    gl.viewport(0, 0, width, height);
    gl.bindVertexArray(this.vao);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    return this.canvas;
  }

  /** The last render's RGBA bytes, top row first. */
  readPixels() {
    const gl = this.gl;
    const { width, height } = this.canvas;
    const flipped = new Uint8Array(width * height * 4);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, flipped);
    const rows = new Uint8Array(flipped.length);
    const stride = width * 4;
    for (let y = 0; y < height; y += 1) rows.set(flipped.subarray((height - 1 - y) * stride, (height - y) * stride), y * stride);
    return rows;
  }

  /** Wait for the GPU (for timing the repaint). */
  finish() {
    const pixel = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, pixel);
  }

  destroy() {
    this.gl.getExtension("WEBGL_lose_context")?.loseContext();
  }
}
