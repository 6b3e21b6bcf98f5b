"""QR codes of a ticket's text (segno): alphanumeric mode, error correction Q, as the EU
digital COVID certificates were printed and shown."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno

ERROR = "Q"  # 25% of the code can be damaged or covered and it still reads
BORDER = 4  # the quiet zone, in modules, that the QR standard asks for


@dataclass(frozen=True)
class TicketQr:
    code: segno.QRCode

    @property
    def version(self) -> int:
        return int(self.code.version)

    @property
    def modules(self) -> int:
        """Modules per side of the symbol, without the quiet zone (17 + 4 × version)."""
        return int(self.code.symbol_size(scale=1, border=0)[0])

    @property
    def mode(self) -> str:
        return str(self.code.mode)

    @property
    def error(self) -> str:
        return str(self.code.error)

    def svg(self, scale: int = 4) -> bytes:
        out = io.BytesIO()
        self.code.save(out, kind="svg", scale=scale, border=BORDER, xmldecl=False,
                       svgns=True, title="Ticket")
        return out.getvalue()

    def png(self, scale: int = 4) -> bytes:
        out = io.BytesIO()
        self.code.save(out, kind="png", scale=scale, border=BORDER)
        return out.getvalue()


def ticket_qr(text: str) -> TicketQr:
    """The QR code of a `TX1:` text. ValueError if the text is not alphanumeric-mode text
    or too long for any QR version."""
    try:
        code = segno.make(text, error=ERROR, mode="alphanumeric", micro=False,
                          boost_error=False)
    except segno.DataOverflowError as exc:
        raise ValueError(f"the text does not fit a QR code at level {ERROR}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"the text is not QR alphanumeric: {exc}") from None
    return TicketQr(code)
