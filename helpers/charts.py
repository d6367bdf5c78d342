"""Two small SVG charts (bars, lines) for notebooks whose kernels must stay light.

matplotlib costs ≈ 30–37 MiB per kernel (bench/class_memory.py), and one student keeps a
kernel per notebook: the course's charts (notebooks 06, 12, 13 and the job monitor's loss
curve) are these, plain SVG text that Jupyter, Colab and GitHub show as is; matplotlib stays
there for anyone who wants more. Imports nothing of the kit but its translation layer (the
numbers on the axes in the learner's convention: decimal comma in French, point in English).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .i18n import _, number

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 40, 60
PALETTE = ("#1e88e5", "#fb8c00", "#43a047", "#8e24aa", "#e53935", "#6d4c41")


@dataclass(frozen=True)
class Chart:
    """An SVG chart: shown by Jupyter (`_repr_svg_`), saved with `save(path)`."""

    svg: str
    title: str

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return _("<graphique : {title}>").format(title=self.title)

    def save(self, path: str) -> str:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg)
        return path


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _number(value: float) -> str:
    """A tick or a bar's value: « 0,5 » in French, "0.5" in English."""
    return number(value, None)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values from `low` to `high`."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def _frame(
    title: str, ylabel: str, low: float, high: float
) -> tuple[list[str], Callable[[float], float]]:
    plot_h = HEIGHT - TOP - BOTTOM

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low or 1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{_esc(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15">{_esc(title)}</text>',
        f'<text transform="translate(16 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        f"{_esc(ylabel)}</text>",
    ]
    for tick in _ticks(low, high):
        y = y_of(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(tick)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#444"/>'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#444"/>'
    )
    return parts, y_of


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    ylabel: str = "",
    top: float | None = None,
    colors: Sequence[str] = PALETTE,
) -> Chart:
    """One bar per label, its value written above it."""
    high = top if top is not None else max([*values, 0]) * 1.1 or 1
    parts, y_of = _frame(title, ylabel, 0, high)
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(values))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + i * slot + slot * 0.2
        y = y_of(value)
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{colors[i % len(colors)]}"/>'
            f'<text x="{x + slot * 0.3:.1f}" y="{y - 5:.1f}" text-anchor="middle">{_number(value)}</text>'
            f'<text x="{x + slot * 0.3:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"{_esc(label)}</text>"
        )
    parts.append("</svg>")
    return Chart("".join(parts), title)


def lines(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    markers: Sequence[str] = (),
) -> Chart:
    """One line per series (name → (xs, ys)); the series named in `markers` get dots."""
    xs = [x for sx, _ in series.values() for x in sx]
    ys = [y for _, sy in series.values() for y in sy]
    if not xs:
        raise ValueError("nothing to draw")
    x_low, x_high = min(xs), max(xs)
    high = max(ys) * 1.05 if max(ys) > 0 else 1
    parts, y_of = _frame(title, ylabel, 0, high)
    span = WIDTH - LEFT - RIGHT

    def x_of(value: float) -> float:
        return LEFT + span * (value - x_low) / (x_high - x_low or 1)

    for tick in _ticks(x_low, x_high):
        parts.append(
            f'<text x="{x_of(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{_number(tick)}</text>"
        )
    parts.append(
        f'<text x="{LEFT + span / 2}" y="{HEIGHT - 22}" text-anchor="middle">{_esc(xlabel)}</text>'
    )
    for i, (name, (sx, sy)) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in zip(sx, sy, strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        if name in markers:
            parts += [
                f'<circle cx="{x_of(x):.1f}" cy="{y_of(y):.1f}" r="3.5" fill="{color}"/>'
                for x, y in zip(sx, sy, strict=True)
            ]
        legend_y = TOP + 6 + 18 * i
        parts.append(
            f'<rect x="{WIDTH - RIGHT - 150}" y="{legend_y - 9}" width="12" height="12" fill="{color}"/>'
            f'<text x="{WIDTH - RIGHT - 132}" y="{legend_y + 1}">{_esc(name)}</text>'
        )
    parts.append("</svg>")
    return Chart("".join(parts), title)
