"""An installed package finds its templates, static files, migrations and profiles too."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_wheel_carries_everything_the_app_reads(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, inside in (("templates", "kiosk/templates"), ("static", "kiosk/static")):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():
                assert f"{inside}/{path.relative_to(ROOT / folder)}" in names
    for path in (ROOT / "kiosk").rglob("*"):
        if (
            path.is_file()
            and path.suffix in (".py", ".toml", ".po", ".pot", ".mako")
            and "__pycache__" not in path.parts
        ):
            assert str(path.relative_to(ROOT)) in names, path
    assert "hardware/card/virtual_card.py" in names
