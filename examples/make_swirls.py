"""Paint ``swirls.png``, the demo's style image: short brush strokes that follow a swirling flow
field, in a night-sky palette. Made by this script, so it carries no third-party licence (CC0).

Run: python examples/make_swirls.py
"""

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = 384
PALETTE = [(18, 38, 92), (30, 64, 150), (58, 104, 196), (92, 148, 214), (236, 206, 82),
           (246, 230, 150), (214, 150, 48), (24, 92, 108), (240, 240, 224)]
CENTRES = [(0.3, 0.35, 1.0), (0.72, 0.25, -0.8), (0.55, 0.75, 1.2), (0.12, 0.85, -0.6)]


def flow_angle(x: float, y: float) -> float:
    """Direction of the strokes at (x, y) in [0, 1]^2: a sum of vortices plus a gentle wave."""
    vx, vy = 0.25, 0.3 * math.sin(6.0 * x + 2.0 * y)
    for cx, cy, strength in CENTRES:
        dx, dy = x - cx, y - cy
        r2 = dx * dx + dy * dy + 0.01
        vx += strength * -dy / r2 * 0.05
        vy += strength * dx / r2 * 0.05
    return math.atan2(vy, vx)


def colour_at(x: float, y: float, rng: random.Random) -> tuple[int, int, int]:
    """Bright yellows near the vortex centres, blues elsewhere, with jitter."""
    near = min(math.hypot(x - cx, y - cy) for cx, cy, _ in CENTRES)
    pool = PALETTE[4:7] + [PALETTE[8]] if near < 0.06 else PALETTE[:4] + [PALETTE[7]]
    base = rng.choice(pool)
    return tuple(max(0, min(255, c + rng.randint(-18, 18))) for c in base)


def paint(seed: int = 7) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", (SIZE, SIZE), PALETTE[0])
    draw = ImageDraw.Draw(img)
    for _ in range(9000):
        x, y = rng.random(), rng.random()
        points = [(x * SIZE, y * SIZE)]
        for _ in range(rng.randint(4, 10)):
            angle = flow_angle(x, y)
            x += math.cos(angle) * 0.008
            y += math.sin(angle) * 0.008
            points.append((x * SIZE, y * SIZE))
        draw.line(points, fill=colour_at(x, y, rng), width=rng.randint(2, 5), joint="curve")
    return img.filter(ImageFilter.SMOOTH)


if __name__ == "__main__":
    out = Path(__file__).with_name("swirls.png")
    paint().save(out)
    print(f"wrote {out}")
