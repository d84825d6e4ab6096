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
    this.svg.remove();
  }

  /** The draft as schema JSON (null when empty). */
  get drawing() {
    return this.draft.length ? this.draft.map((shape) => ({ ...shape })) : null;
  }

  /** Saved drawings to display: [{shapes, emphasis}] (emphasised ones are drawn at full strength). */
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
    for (const { shapes, emphasis } of this.shown) groups.push(this._group(shapes, emphasis ? "saved emphasis" : "saved"));
    groups.push(this._group(this.active ? [...this.draft, this.active] : this.draft, "draft"));
    this.svg.replaceChildren(...groups);
    this.svg.dataset.shapes = String(this.svg.querySelectorAll("[data-shape]").length);
  }

  _group(shapes, className) {
    const group = svg("g", { class: className });
    const width = this.viewer.overlay.clientWidth;
    const at = (x, y) => this.viewer.fromImage(x, y);
    for (const shape of shapes || []) {
      const colour = shape.colour || COLOURS[0];
      const stroke = Math.max(1.5, (shape.width || DEFAULT_WIDTH) * width);
      const common = { stroke: colour, "stroke-width": stroke, fill: "none", "data-shape": shape.type,
        "stroke-linecap": "round", "stroke-linejoin": "round" };
      if (shape.type === "freehand") {
        const points = shape.points.map(([x, y]) => { const p = at(x, y); return `${p.x},${p.y}`; }).join(" ");
        group.append(svg("polyline", { points, ...common }));
      } else if (shape.type === "rect") {
        const a = at(shape.x, shape.y);
        const b = at(shape.x + shape.w, shape.y + shape.h);
        group.append(svg("rect", { x: a.x, y: a.y, width: Math.max(0, b.x - a.x), height: Math.max(0, b.y - a.y), ...common }));
      } else if (shape.type === "arrow") {
        const a = at(...shape.from);
        const b = at(...shape.to);
        const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
        const [ux, uy] = [(b.x - a.x) / length, (b.y - a.y) / length];
        const head = Math.max(8, stroke * 4);
        const left = `${b.x - head * ux + head * 0.5 * uy},${b.y - head * uy - head * 0.5 * ux}`;
        const right = `${b.x - head * ux - head * 0.5 * uy},${b.y - head * uy + head * 0.5 * ux}`;
        const arrow = svg("g", { "data-shape": "arrow" });
        const { "data-shape": _kind, ...line } = common;
        arrow.append(svg("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, ...line }),
          svg("polygon", { points: `${b.x},${b.y} ${left} ${right}`, fill: colour, stroke: "none" }));
        group.append(arrow);
      } else if (shape.type === "text") {
        const p = at(shape.x, shape.y);
        const label = svg("text", { x: p.x, y: p.y, fill: colour, "data-shape": "text", "dominant-baseline": "hanging",
          "font-size": Math.max(12, Math.round(this.viewer.overlay.clientHeight * 0.04)) });
        label.textContent = shape.text;
        group.append(label);
      }
    }
    return group;
  }
}
