"""Variants of the demo site profile for tests."""

from pathlib import Path

from kiosk.site import DEMO_PROFILE


def site_variant(tmp_path: Path, *replacements: tuple[str, str], name: str = "site.toml") -> Path:
    """The demo profile with text replaced; each replacement must apply."""
    text = DEMO_PROFILE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in the demo profile"
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# The demo's appointment hours name every one of its languages: a variant with other
# languages leaves them out.
NO_APPOINTMENT_HOURS = (
    next(line for line in DEMO_PROFILE.read_text(encoding="utf-8").splitlines() if line.startswith("hours = {")),
    "",
)

CLOSED_ALL_WEEK = tuple(
    (f'{day} = ["00:00-24:00"]', f"{day} = []")
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)


def trusting_fake_register(tmp_path: Path) -> tuple[str, str]:
    """The replacement of the demo's [reader] that trusts the roots of this process's fake
    register (hardware.card.fake_register), written to a PEM file: certificates, no keys."""
    from hardware.card.fake_register import fake_register

    roots = tmp_path / "fake-roots.pem"
    roots.write_bytes(fake_register().trust_anchors_pem())
    return ('[reader]\nkind = "simulated"', f'[reader]\nkind = "simulated"\ntrust_anchors = ["{roots}"]')
