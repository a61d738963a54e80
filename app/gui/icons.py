"""The app and tray icons, drawn from the SVGs in app/gui/assets so they are sharp at every size.

`render_pngs` writes the fixed-size PNGs that installers and desktop entries want
(`python -m app.gui.icons assets/` regenerates the ones kept in the repository).
"""

from __future__ import annotations

import enum
import sys
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


class IconState(str, enum.Enum):
    """What the tray icon tells at a glance."""

    NORMAL = "deskmate"
    PAUSED = "deskmate-paused"
    WAITING = "deskmate-waiting"


def svg_bytes(state: IconState = IconState.NORMAL) -> bytes:
    return resources.files("app.gui").joinpath("assets", f"{state.value}.svg").read_bytes()


def render(state: IconState, size: int) -> QImage:
    """The icon as a transparent square image of `size` pixels."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(svg_bytes(state)))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def icon(state: IconState = IconState.NORMAL) -> QIcon:
    """A QIcon with a pixmap per standard size (no reliance on the SVG icon-engine plugin)."""
    result = QIcon()
    for size in PNG_SIZES:
        result.addPixmap(QPixmap.fromImage(render(state, size)))
    return result


def render_pngs(out_dir: Path, state: IconState = IconState.NORMAL) -> list[Path]:
    """Write `deskmate-<size>.png` for every standard size and a copy of the SVG; return the PNG paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{state.value}.svg").write_bytes(svg_bytes(state))
    written = []
    for size in PNG_SIZES:
        path = out_dir / f"{state.value}-{size}.png"
        if not render(state, size).save(str(path)):
            raise OSError(f"Could not write {path}.")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m app.gui.icons assets/
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "assets")
    for paths in (render_pngs(target), *(render_pngs(target / "tray", s) for s in (IconState.PAUSED, IconState.WAITING))):
        print(f"wrote {len(paths)} PNGs to {paths[0].parent}")
