"""WCT: its default strength."""

from __future__ import annotations

from stylefuse.methods.adain import AdaINStylizer
from stylefuse.methods.wct import WCTStylizer


def test_each_method_has_its_own_default_strength() -> None:
    assert AdaINStylizer().strength == 1.0
    assert WCTStylizer().strength == WCTStylizer.default_strength == 0.5
    assert WCTStylizer(strength=1.0).strength == 1.0
