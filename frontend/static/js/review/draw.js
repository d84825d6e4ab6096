// Drawings over the annotated image (the viewer's setAnnotatedSource: the version the comment is
// filed on, whichever pane shows it side by side): the tools that make a comment's drawing (freehand, arrow,
// rectangle, text; colour; undo) and the display of saved drawings.
//
// Shapes are stored in normalised image coordinates (0..1, the schema of webapp/review/drawing.py),
// so they fit any proxy size, zoom or pan: they are converted with viewer.toImage / fromImage and
// redrawn in an SVG inside viewer.overlay whenever the mapping changes (viewchange).

const SVG_NS = "http://www.w3.org/2000/svg";
export const TOOLS = ["freehand", "arrow", "rect", "text"];
export const COLOURS = ["#ff3b30", "#ffcc00", "#34c759", "#0a84ff", "#ffffff"];
export const DEFAULT_WIDTH = 0.004; // of the frame's width
const MIN_STEP = 0.002; // freehand: skip points closer than this to the last one
const MAX_POINTS = 2000; // per freehand shape (the server's limit)
const MIN_SIZE = 0.004; // shorter arrows and thinner rectangles are slips, not shapes

const clamp01 = (value) => Math.min(1, Math.max(0, value));
const round4 = (value) => Math.round(value * 10000) / 10000;

function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

export class DrawingLayer extends EventTarget {
  /** Events: "change" when the draft changes (detail: {shapes}). */
  constructor(viewer) {
    super();
    this.viewer = viewer;
    this.tool = null;
    this.colour = COLOURS[0];
    this.draft = [];
    this.shown = []; // [{shapes, emphasis: bool}] saved drawings on screen
    this.active = null; // the shape being drawn
    this.svg = svg("svg", { class: "draw-layer", "aria-hidden": "true" });
    viewer.overlay.append(this.svg);
    viewer.addEventListener("viewchange", () => this.render());
    // A downloaded frame "with drawings" gets what this layer shows (viewer/snapshot.js).
    this._removePainter = viewer.addOverlayPainter?.((ctx, size) => this.paint(ctx, size));
    this._bindPointer();
  }

  // ---- tools -------------------------------------------------------------------------------

  setTool(tool) {
    this.tool = TOOLS.includes(tool) ? tool : null;
    this.viewer.overlay.classList.toggle("drawing", this.tool !== null);
    this.viewer.overlay.dataset.tool = this.tool ?? "";
    this._cancelText();
  }

  setColour(colour) {
    this.colour = colour;
  }

  undo() {
    this.draft.pop();
    this._changed();
  }

  clear() {
    this.draft = [];
    this._cancelText();
    this._changed();
  }

  /** Stop drawing and take the layer off the viewer (the comments panel is unmounted). */
  destroy() {
    this.setTool(null);
    this.active = null;
    this._removePainter?.();
    this.svg.remove();
  }

  /** The draft as schema JSON (null when empty). */
  get drawing() {
    return this.draft.length ? this.draft.map((shape) => ({ ...shape })) : null;
  }

  /** Saved drawings to display: [{shapes, emphasis, onion}] (emphasised ones are drawn at full
   * strength; onion: "before" | "after", a neighbouring frame's, faint and tinted). */
  show(drawings) {
    this.shown = drawings;
    this.render();
  }

  // ---- pointer -----------------------------------------------------------------------------

  _point(event) {
    const { x, y } = this.viewer.toImage(event.clientX, event.clientY);
    return [round4(clamp01(x)), round4(clamp01(y))];
  }

  _bindPointer() {
    const overlay = this.viewer.overlay;
    overlay.addEventListener("pointerdown", (event) => {
      if (!this.tool || event.button !== 0 || event.target.closest(".draw-text-input")) return;
      event.preventDefault();
      event.stopPropagation();
      const [x, y] = this._point(event);
      const base = { colour: this.colour, width: DEFAULT_WIDTH };
      if (this.tool === "text") {
        this._askText(x, y);
        return;
      }
      overlay.setPointerCapture(event.pointerId);
      if (this.tool === "freehand") this.active = { type: "freehand", points: [[x, y]], ...base };
      if (this.tool === "arrow") this.active = { type: "arrow", from: [x, y], to: [x, y], ...base };
      if (this.tool === "rect") this.active = { type: "rect", x, y, w: 0, h: 0, ...base, _origin: [x, y] };
      this.render();
    });
    overlay.addEventListener("pointermove", (event) => {
      if (!this.active) return;
      const [x, y] = this._point(event);
      const shape = this.active;
      if (shape.type === "freehand") {
        const [lx, ly] = shape.points[shape.points.length - 1];
        if (Math.hypot(x - lx, y - ly) >= MIN_STEP && shape.points.length < MAX_POINTS) shape.points.push([x, y]);
      } else if (shape.type === "arrow") {
        shape.to = [x, y];
      } else if (shape.type === "rect") {
        const [ox, oy] = shape._origin;
        Object.assign(shape, { x: Math.min(ox, x), y: Math.min(oy, y), w: round4(Math.abs(x - ox)), h: round4(Math.abs(y - oy)) });
      }
      this.render();
    });
    const finish = () => {
      const shape = this.active;
      if (!shape) return;
      this.active = null;
      delete shape._origin;
      if (this._worthKeeping(shape)) {
        this.draft.push(shape);
        this._changed();
      } else {
        this.render();
      }
    };
    overlay.addEventListener("pointerup", finish);
    overlay.addEventListener("pointercancel", () => { this.active = null; this.render(); });
  }

  _worthKeeping(shape) {
    if (shape.type === "freehand") return shape.points.length >= 2;
    if (shape.type === "arrow") return Math.hypot(shape.to[0] - shape.from[0], shape.to[1] - shape.from[1]) >= MIN_SIZE;
    if (shape.type === "rect") return shape.w >= MIN_SIZE && shape.h >= MIN_SIZE;
    return true;
  }

  _askText(x, y) {
    this._cancelText();
    const input = document.createElement("input");
    input.type = "text";
    input.className = "draw-text-input";
    input.maxLength = 500;
    input.placeholder = "Label, Enter to place";
    const at = this.viewer.fromImage(x, y);
    Object.assign(input.style, { left: `${at.x}px`, top: `${at.y}px`, color: this.colour });
    this.viewer.overlay.append(input);
    this.textInput = input;
    const colour = this.colour;
    input.addEventListener("keydown", (event) => {
      event.stopPropagation(); // typing is not a viewer shortcut
      if (event.key === "Enter") {
        const text = input.value.trim();
        this._cancelText();
        if (text) {
          this.draft.push({ type: "text", x, y, text, colour });
          this._changed();
        }
      } else if (event.key === "Escape") {
        this._cancelText();
      }
    });
    input.addEventListener("pointerdown", (event) => event.stopPropagation());
    setTimeout(() => input.focus(), 0);
  }

  _cancelText() {
    this.textInput?.remove();
    this.textInput = null;
  }

  _changed() {
    this.render();
    this.dispatchEvent(new CustomEvent("change", { detail: { shapes: this.draft } }));
  }

  // ---- rendering -----------------------------------------------------------------------------

  render() {
    const overlay = this.viewer.overlay;
    const width = overlay.clientWidth;
    const height = overlay.clientHeight;
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const groups = [];
    for (const { shapes, emphasis, onion } of this.shown) {
      groups.push(this._group(shapes, onion ? `onion onion-${onion}` : emphasis ? "saved emphasis" : "saved"));
    }
    groups.push(this._group(this.active ? [...this.draft, this.active] : this.draft, "draft"));
    this.svg.replaceChildren(...groups);
    this.svg.dataset.shapes = String(this.svg.querySelectorAll("[data-shape]").length);
  }

  _group(shapes, className) {
    const group = svg("g", { class: className });
    const size = { width: this.viewer.overlay.clientWidth, height: this.viewer.overlay.clientHeight };
    const at = (x, y) => this.viewer.fromImage(x, y);
    for (const shape of shapes || []) {
      const parts = shapeParts(shape, at, size);
      const common = { "stroke-linecap": "round", "stroke-linejoin": "round" };
      const elements = parts.map((part) => {
        if (part.kind === "polyline") {
          return svg("polyline", { points: part.points.map((p) => `${p.x},${p.y}`).join(" "), stroke: part.colour,
            "stroke-width": part.stroke, fill: "none", ...common });
        }
        if (part.kind === "polygon") {
          return svg("polygon", { points: part.points.map((p) => `${p.x},${p.y}`).join(" "), fill: part.colour, stroke: "none" });
        }
        if (part.kind === "rect") {
          return svg("rect", { x: part.x, y: part.y, width: part.w, height: part.h, stroke: part.colour,
            "stroke-width": part.stroke, fill: "none", ...common });
        }
        const label = svg("text", { x: part.x, y: part.y, fill: part.colour, "dominant-baseline": "hanging", "font-size": part.fontSize });
        label.textContent = part.text;
        return label;
      });
      // A shape drawn as one element carries data-shape itself; an arrow (line + head) is a group.
      if (shape.type === "arrow") {
        const arrow = svg("g", { "data-shape": "arrow" });
        arrow.append(...elements);
        group.append(arrow);
      } else if (elements.length) {
        elements[0].setAttribute("data-shape", shape.type);
        group.append(...elements);
      }
    }
    return group;
  }

  /** Paint what is on screen (saved drawings and the draft, not the onion skin) on a canvas of
   * `width` x `height` covering the whole picture (a downloaded frame). */
  paint(ctx, { width, height }) {
    const at = (x, y) => ({ x: x * width, y: y * height });
    const shapes = [...this.shown.filter((entry) => !entry.onion).flatMap((entry) => entry.shapes || []), ...this.draft];
    ctx.save();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const shape of shapes) {
      for (const part of shapeParts(shape, at, { width, height })) {
        if (part.kind === "polyline" || part.kind === "polygon") {
          ctx.beginPath();
          part.points.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
          if (part.kind === "polygon") {
            ctx.closePath();
            ctx.fillStyle = part.colour;
            ctx.fill();
          } else {
            ctx.strokeStyle = part.colour;
            ctx.lineWidth = part.stroke;
            ctx.stroke();
          }
        } else if (part.kind === "rect") {
          ctx.strokeStyle = part.colour;
          ctx.lineWidth = part.stroke;
          ctx.strokeRect(part.x, part.y, part.w, part.h);
        } else {
          ctx.font = `600 ${part.fontSize}px ${getComputedStyle(document.body).fontFamily}`;
          ctx.textBaseline = "top";
          ctx.lineWidth = 3;
          ctx.strokeStyle = "rgba(0, 0, 0, .75)";
          ctx.strokeText(part.text, part.x, part.y);
          ctx.fillStyle = part.colour;
          ctx.fillText(part.text, part.x, part.y);
        }
      }
    }
    ctx.restore();
  }
}

/**
 * One shape as what to draw, in pixels: polylines and rectangles (stroked), polygons (filled: an
 * arrow's head) and text. `at(x, y)` maps normalised image coordinates to pixels in a picture of
 * `width` x `height`; the overlay (SVG) and a downloaded frame (canvas) draw the same parts.
 */
export function shapeParts(shape, at, { width, height }) {
  const colour = shape.colour || COLOURS[0];
  const stroke = Math.max(1.5, (shape.width || DEFAULT_WIDTH) * width);
  if (shape.type === "freehand") {
    return [{ kind: "polyline", colour, stroke, points: shape.points.map(([x, y]) => at(x, y)) }];
  }
  if (shape.type === "rect") {
    const a = at(shape.x, shape.y);
    const b = at(shape.x + shape.w, shape.y + shape.h);
    return [{ kind: "rect", colour, stroke, x: a.x, y: a.y, w: Math.max(0, b.x - a.x), h: Math.max(0, b.y - a.y) }];
  }
  if (shape.type === "arrow") {
    const a = at(...shape.from);
    const b = at(...shape.to);
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const [ux, uy] = [(b.x - a.x) / length, (b.y - a.y) / length];
    const head = Math.max(8, stroke * 4);
    const left = { x: b.x - head * ux + head * 0.5 * uy, y: b.y - head * uy - head * 0.5 * ux };
    const right = { x: b.x - head * ux - head * 0.5 * uy, y: b.y - head * uy + head * 0.5 * ux };
    return [{ kind: "polyline", colour, stroke, points: [a, b] }, { kind: "polygon", colour, points: [b, left, right] }];
  }
  if (shape.type === "text") {
    const p = at(shape.x, shape.y);
    return [{ kind: "text", colour, x: p.x, y: p.y, text: shape.text, fontSize: Math.max(12, Math.round(height * 0.04)) }];
  }
  return [];
}
