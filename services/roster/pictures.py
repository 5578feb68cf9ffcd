"""The fixed set of login pictures ("leerlingplaatjes") and how to draw them.

Each picture is a few plain shapes in a 100 x 100 box (y pointing down), drawn the same way on
screen (SVG, for the gateway) and on paper (reportlab, for the Printversie), so a child sees on
the card exactly what the learning app shows. Names are stable identifiers: they are stored
(encrypted) as a pupil's picture login, so never rename or remove one; add new ones at the end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

INK = "#222222"
PICTURE_LOGIN_LENGTH = 3  # pictures in one login, in order


@dataclass(frozen=True)
class Shape:
    kind: str  # circle | ellipse | rect | poly | line
    points: tuple[float, ...]  # circle: cx cy r; ellipse: cx cy rx ry; rect: x y w h; poly/line: x1 y1 x2 y2 ...
    fill: str | None = None
    stroke: str | None = INK
    width: float = 2.0


@dataclass(frozen=True)
class Picture:
    name: str
    label: str
    shapes: tuple[Shape, ...]


def _star(cx: float, cy: float, outer: float, inner: float) -> tuple[float, ...]:
    pts: list[float] = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        a = -math.pi / 2 + i * math.pi / 5
        pts += [round(cx + r * math.cos(a), 2), round(cy + r * math.sin(a), 2)]
    return tuple(pts)


def _heart() -> tuple[float, ...]:
    pts: list[float] = []
    for i in range(40):
        t = 2 * math.pi * i / 40
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts += [round(50 + 2.6 * x, 2), round(48 - 2.6 * y, 2)]
    return tuple(pts)


def _sun() -> tuple[Shape, ...]:
    rays = tuple(Shape("line", (round(50 + 28 * math.cos(a), 2), round(50 + 28 * math.sin(a), 2),
                                round(50 + 44 * math.cos(a), 2), round(50 + 44 * math.sin(a), 2)),
                       stroke="#E0A000", width=5)
                 for a in (i * math.pi / 4 for i in range(8)))
    return (*rays, Shape("circle", (50, 50, 22), fill="#FFD23F"))


PICTURES: tuple[Picture, ...] = (
    Picture("zon", "Zon", _sun()),
    Picture("maan", "Maan", (
        Shape("circle", (50, 50, 36), fill="#F4D35E"),
        Shape("circle", (66, 40, 32), fill="#FFFFFF", stroke=None),
    )),
    Picture("ster", "Ster", (Shape("poly", _star(50, 52, 44, 18), fill="#F9C80E"),)),
    Picture("huis", "Huis", (
        Shape("rect", (20, 45, 60, 45), fill="#E76F51"),
        Shape("poly", (12, 47, 50, 12, 88, 47), fill="#8D3B2B"),
        Shape("rect", (44, 62, 14, 28), fill="#6B4226"),
    )),
    Picture("boom", "Boom", (
        Shape("rect", (43, 55, 14, 38), fill="#7F5539"),
        Shape("circle", (50, 40, 30), fill="#4CAF50"),
    )),
    Picture("bloem", "Bloem", (
        Shape("line", (50, 55, 50, 96), stroke="#2E7D32", width=4),
        *(Shape("circle", (round(50 + 18 * math.cos(a), 2), round(38 + 18 * math.sin(a), 2), 13), fill="#F06292")
          for a in (i * 2 * math.pi / 5 for i in range(5))),
        Shape("circle", (50, 38, 10), fill="#FFEB3B"),
    )),
    Picture("vis", "Vis", (
        Shape("poly", (70, 50, 94, 30, 94, 70), fill="#0288D1"),
        Shape("ellipse", (44, 50, 34, 22), fill="#4FC3F7"),
        Shape("circle", (28, 45, 4), fill=INK),
    )),
    Picture("hart", "Hart", (Shape("poly", _heart(), fill="#E53935"),)),
    Picture("appel", "Appel", (
        Shape("line", (50, 30, 54, 12), stroke="#6B4226", width=4),
        Shape("ellipse", (64, 18, 10, 5), fill="#66BB6A"),
        Shape("circle", (50, 58, 32), fill="#D62828"),
    )),
    Picture("bal", "Bal", (
        Shape("circle", (50, 50, 38), fill="#1E88E5"),
        Shape("line", (12, 50, 88, 50), stroke="#FFFFFF", width=6),
        Shape("line", (50, 12, 50, 88), stroke="#FFFFFF", width=6),
    )),
    Picture("auto", "Auto", (
        Shape("poly", (28, 50, 38, 30, 66, 30, 76, 50), fill="#90CAF9"),
        Shape("rect", (8, 50, 84, 24), fill="#F57C00"),
        Shape("circle", (28, 76, 10), fill=INK),
        Shape("circle", (72, 76, 10), fill=INK),
    )),
    Picture("boot", "Boot", (
        Shape("line", (50, 10, 50, 66), width=3),
        Shape("poly", (53, 14, 53, 60, 86, 60), fill="#FFFFFF"),
        Shape("poly", (10, 68, 90, 68, 76, 88, 24, 88), fill="#8D6E63"),
    )),
)

BY_NAME: dict[str, Picture] = {p.name: p for p in PICTURES}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def _svg_shape(s: Shape) -> str:
    paint = f'fill="{s.fill or "none"}" stroke="{s.stroke or "none"}" stroke-width="{s.width}"'
    p = s.points
    if s.kind == "circle":
        return f'<circle cx="{p[0]}" cy="{p[1]}" r="{p[2]}" {paint}/>'
    if s.kind == "ellipse":
        return f'<ellipse cx="{p[0]}" cy="{p[1]}" rx="{p[2]}" ry="{p[3]}" {paint}/>'
    if s.kind == "rect":
        return f'<rect x="{p[0]}" y="{p[1]}" width="{p[2]}" height="{p[3]}" {paint}/>'
    coords = " ".join(f"{p[i]},{p[i + 1]}" for i in range(0, len(p), 2))
    tag = "polygon" if s.kind == "poly" else "polyline"
    return f'<{tag} points="{coords}" {paint} stroke-linecap="round"/>'


def svg(name: str) -> str:
    """The picture as a standalone SVG document (viewBox 0 0 100 100)."""
    picture = BY_NAME[name]
    body = "".join(_svg_shape(s) for s in picture.shapes)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" role="img" '
            f'aria-label="{picture.label}">{body}</svg>')


def draw(canvas, name: str, x: float, y: float, size: float) -> None:
    """Draw the picture on a reportlab canvas in the square whose lower-left corner is (x, y)."""
    from reportlab.lib.colors import HexColor

    k = size / 100.0

    def px(v: float) -> float:
        return x + v * k

    def py(v: float) -> float:
        return y + size - v * k  # the shapes' y points down, PDF's points up

    for s in BY_NAME[name].shapes:
        canvas.saveState()
        canvas.setLineWidth(s.width * k)
        canvas.setLineCap(1)
        if s.stroke:
            canvas.setStrokeColor(HexColor(s.stroke))
        if s.fill:
            canvas.setFillColor(HexColor(s.fill))
        fill, stroke = int(s.fill is not None), int(s.stroke is not None)
        p = s.points
        if s.kind == "circle":
            canvas.circle(px(p[0]), py(p[1]), p[2] * k, stroke=stroke, fill=fill)
        elif s.kind == "ellipse":
            canvas.ellipse(px(p[0] - p[2]), py(p[1] - p[3]), px(p[0] + p[2]), py(p[1] + p[3]),
                           stroke=stroke, fill=fill)
        elif s.kind == "rect":
            canvas.rect(px(p[0]), py(p[1] + p[3]), p[2] * k, p[3] * k, stroke=stroke, fill=fill)
        else:
            path = canvas.beginPath()
            path.moveTo(px(p[0]), py(p[1]))
            for i in range(2, len(p), 2):
                path.lineTo(px(p[i]), py(p[i + 1]))
            if s.kind == "poly":
                path.close()
            canvas.drawPath(path, stroke=stroke, fill=fill if s.kind == "poly" else 0)
        canvas.restoreState()


def catalogue() -> dict:
    """What picture_set() answers: the login length and every picture with its label and SVG."""
    return {"length": PICTURE_LOGIN_LENGTH,
            "pictures": [{"name": p.name, "label": p.label, "svg": svg(p.name)} for p in PICTURES]}
