"""Small, dependency-free SVG charts for validation evidence.

Evidence plots must render in a browser and in an auditor's export without a plotting
library installed on the server; these two chart kinds (horizontal bars with optional
error bars and a reference line, and x/y lines) cover every plot the checks produce.
The output is deterministic for the same numbers, so identical runs store identical files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

_W = 720
_FONT = 'font-family="Helvetica, Arial, sans-serif"'
_COLOURS = ("#2f6db5", "#d9822b", "#3a9a5b", "#b83b3b", "#7a55a8", "#666666")


def _num(value: float) -> str:
    return f"{value:.4g}"


def _header(height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
        f'viewBox="0 0 {_W} {height}" role="img" aria-label="{escape(title)}">',
        f'<rect width="{_W}" height="{height}" fill="white"/>',
        f'<text x="{_W // 2}" y="22" text-anchor="middle" font-size="15" {_FONT}>'
        f"{escape(title)}</text>",
    ]


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    errors: Sequence[float] | None = None,
    reference: float | None = None,
    reference_label: str = "",
    highlight: Sequence[bool] | None = None,
    value_label: str = "",
) -> str:
    """Horizontal bars, one per label; ``highlight`` colours flagged bars red."""
    row = 22
    left, right, top = 230, 70, 40
    height = top + row * len(labels) + 50
    finite = [v for v in values if math.isfinite(v)]
    spans = [abs(v) + (errors[i] if errors else 0.0) for i, v in enumerate(values)]
    hi = max([*spans, abs(reference) if reference is not None else 0.0, 1e-12])
    lo = min([0.0, *finite])
    if lo < 0:
        hi = max(hi, -lo)
    scale_lo = -hi if lo < 0 else 0.0
    width = _W - left - right

    def x(v: float) -> float:
        return left + (v - scale_lo) / (hi - scale_lo) * width

    out = _header(height, title)
    zero = x(0.0)
    out.append(
        f'<line x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" '
        f'y2="{top + row * len(labels)}" stroke="#999"/>'
    )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        colour = "#b83b3b" if highlight and highlight[i] else _COLOURS[0]
        text = escape(label if len(label) <= 34 else label[:33] + "…")
        out.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="11" {_FONT}>'
            f"{text}</text>"
        )
        if not math.isfinite(value):
            out.append(f'<text x="{zero + 4:.1f}" y="{y + 15}" font-size="11" {_FONT}>n/a</text>')
            continue
        x0, x1 = sorted((zero, x(value)))
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 0.5):.1f}" height="{row - 8}" '
            f'fill="{colour}"/>'
        )
        if errors:
            e0, e1 = x(value - errors[i]), x(value + errors[i])
            out.append(
                f'<line x1="{e0:.1f}" y1="{y + row / 2:.1f}" x2="{e1:.1f}" '
                f'y2="{y + row / 2:.1f}" stroke="black"/>'
            )
        out.append(
            f'<text x="{max(x1, x(value + (errors[i] if errors else 0))) + 4:.1f}" '
            f'y="{y + 15}" font-size="10" {_FONT}>{_num(value)}</text>'
        )
    if reference is not None and math.isfinite(reference):
        rx = x(reference)
        out.append(
            f'<line x1="{rx:.1f}" y1="{top - 6}" x2="{rx:.1f}" y2="{top + row * len(labels)}" '
            'stroke="#b83b3b" stroke-dasharray="4 3"/>'
        )
        out.append(
            f'<text x="{rx:.1f}" y="{top + row * len(labels) + 16}" text-anchor="middle" '
            f'font-size="10" fill="#b83b3b" {_FONT}>{escape(reference_label)} '
            f"{_num(reference)}</text>"
        )
    if value_label:
        out.append(
            f'<text x="{left + width / 2:.1f}" y="{height - 8}" text-anchor="middle" '
            f'font-size="11" {_FONT}>{escape(value_label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
) -> str:
    """Lines with point markers; ``diagonal`` draws y = x (perfect calibration)."""
    left, right, top, bottom = 70, 150, 40, 50
    height = 420
    xs = [v for _, sx, _ in series for v in sx if math.isfinite(v)] or [0.0, 1.0]
    ys = [v for _, _, sy in series for v in sy if math.isfinite(v)] or [0.0, 1.0]
    x0, x1 = x_range or (min(xs), max(xs))
    y0, y1 = y_range or (min(0.0, min(ys)), max(ys))
    if x1 <= x0:
        x1 = x0 + 1.0
    if y1 <= y0:
        y1 = y0 + 1.0
    pw, ph = _W - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    def py(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    out = _header(height, title)
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    for k in range(5):
        tx = x0 + (x1 - x0) * k / 4
        ty = y0 + (y1 - y0) * k / 4
        out.append(
            f'<text x="{px(tx):.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="10" '
            f"{_FONT}>{_num(tx)}</text>"
        )
        out.append(
            f'<text x="{left - 6}" y="{py(ty) + 4:.1f}" text-anchor="end" font-size="10" '
            f"{_FONT}>{_num(ty)}</text>"
        )
    if diagonal:
        lo, hi = max(x0, y0), min(x1, y1)
        out.append(
            f'<line x1="{px(lo):.1f}" y1="{py(lo):.1f}" x2="{px(hi):.1f}" y2="{py(hi):.1f}" '
            'stroke="#999" stroke-dasharray="4 3"/>'
        )
    for n, (name, sx, sy) in enumerate(series):
        colour = _COLOURS[n % len(_COLOURS)]
        points = [(a, b) for a, b in zip(sx, sy, strict=True) if math.isfinite(a + b)]
        if points:
            path = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
            for a, b in points:
                out.append(f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="{colour}"/>')
        out.append(
            f'<text x="{left + pw + 10}" y="{top + 14 + 16 * n}" font-size="11" fill="{colour}" '
            f"{_FONT}>{escape(name)}</text>"
        )
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{height - 10}" text-anchor="middle" font-size="11" '
        f"{_FONT}>{escape(x_label)}</text>"
    )
    out.append(
        f'<text x="16" y="{top + ph / 2:.1f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 16 {top + ph / 2:.1f})" {_FONT}>{escape(y_label)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
