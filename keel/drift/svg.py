"""Small inline SVG charts for the drift report (no plotting library in the image, no external assets)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

WIDTH, HEIGHT = 440, 230
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 40, 40  # title on the first line, legend on the second
REFERENCE_COLOUR, CURRENT_COLOUR = "#4c72b0", "#dd8452"
MAX_POINTS = 256  # ECDF vertices per sample: enough for the eye, keeps the HTML small at any row count


def _x(fraction: float) -> float:
    return LEFT + fraction * (WIDTH - LEFT - RIGHT)


def _y(fraction: float) -> float:
    return HEIGHT - BOTTOM - fraction * (HEIGHT - TOP - BOTTOM)


def _frame(title: str, body: Sequence[str], y_max: float) -> str:
    ticks = []
    for fraction in (0.0, 0.5, 1.0):
        y = _y(fraction)
        ticks.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{fraction * y_max:.2g}</text>'
        )
    legend = (
        f'<rect x="{LEFT}" y="21" width="10" height="10" fill="{REFERENCE_COLOUR}"/>'
        f'<text x="{LEFT + 14}" y="30">reference</text>'
        f'<rect x="{LEFT + 80}" y="21" width="10" height="10" fill="{CURRENT_COLOUR}"/>'
        f'<text x="{LEFT + 94}" y="30">current</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="10" role="img">'
        f"<title>{escape(title)}</title>"
        f'<text x="{LEFT}" y="13" font-size="11" font-weight="bold">{escape(title)}</text>'
        + "".join(ticks)
        + legend
        + "".join(body)
        + f'<line x1="{LEFT}" y1="{_y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{_y(0):.1f}" stroke="#333"/></svg>'
    )


def bin_chart(
    title: str, edges: Sequence[float], reference: Sequence[float], current: Sequence[float]
) -> str:
    """Grouped bars: reference vs current share per PSI bin."""
    bins = len(reference)
    y_max = max(max(reference, default=0), max(current, default=0), 1e-9)
    slot = 1.0 / bins
    body = []
    for index, (ref, cur) in enumerate(zip(reference, current, strict=True)):
        for offset, share, colour in ((0.1, ref, REFERENCE_COLOUR), (0.5, cur, CURRENT_COLOUR)):
            x0, x1 = _x((index + offset) * slot), _x((index + offset + 0.4) * slot)
            top = _y(share / y_max)
            body.append(
                f'<rect x="{x0:.1f}" y="{top:.1f}" width="{x1 - x0:.1f}" height="{_y(0) - top:.1f}" '
                f'fill="{colour}"><title>{_bin_label(edges, index)}: {share:.3f}</title></rect>'
            )
        body.append(
            f'<text x="{_x((index + 0.5) * slot):.1f}" y="{_y(0) + 12:.1f}" text-anchor="middle">'
            f"{escape(_short_label(edges, index))}</text>"
        )
    body.append(f'<text x="{_x(0.5):.1f}" y="{HEIGHT - 6}" text-anchor="middle">PSI bin (upper edge)</text>')
    return _frame(title, body, y_max)


def ecdf_chart(title: str, reference: np.ndarray, current: np.ndarray) -> str:
    """Empirical CDFs of both samples on a shared value axis (the KS statistic is their widest gap)."""
    low = float(min(reference[0], current[0]))
    high = float(max(reference[-1], current[-1]))
    span = high - low or 1.0
    body = []
    for values, colour in ((reference, REFERENCE_COLOUR), (current, CURRENT_COLOUR)):
        body.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
            f'points="{_ecdf_points(values, low, span)}"/>'
        )
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<text x="{_x(fraction):.1f}" y="{_y(0) + 12:.1f}" text-anchor="middle">'
            f"{low + fraction * span:.3g}</text>"
        )
    body.append(f'<text x="{_x(0.5):.1f}" y="{HEIGHT - 6}" text-anchor="middle">value</text>')
    return _frame(title, body, 1.0)


def _ecdf_points(values: np.ndarray, low: float, span: float) -> str:
    count = len(values)
    picks = np.unique(np.linspace(0, count - 1, min(count, MAX_POINTS)).astype(np.int64))
    points = [f"{_x(0):.1f},{_y(0):.1f}"]
    previous = 0.0
    for index in picks:
        x = _x((float(values[index]) - low) / span)
        share = (index + 1) / count
        points.append(f"{x:.1f},{_y(previous):.1f} {x:.1f},{_y(share):.1f}")  # a step, not a slope
        previous = share
    points.append(f"{_x(1):.1f},{_y(1):.1f}")
    return " ".join(points)


def _bin_label(edges: Sequence[float], index: int) -> str:
    low = "-inf" if index == 0 else f"{edges[index - 1]:.4g}"
    high = "+inf" if index == len(edges) else f"{edges[index]:.4g}"
    return f"({low}, {high}]"


def _short_label(edges: Sequence[float], index: int) -> str:
    return "+inf" if index == len(edges) else f"{edges[index]:.3g}"
