"""Write the example HR exports from the pilot's participants, as HR tools write them.

- ``henkilosto.csv``: what a Finnish HR system exports: Finnish headers and values, semicolons,
  Windows-1252, CRLF line ends, and a column Mentorflow does not use.
- ``deltagare.xlsx``: an Excel workbook (openpyxl) with Swedish headers, an instructions sheet
  first and the people on the sheet ``Deltagare``; its e-mail column has the organisation's own
  name (``Arbetsmejl``), mapped by ``deltagare-columns.yaml``.

Both import to the participants of ``palkeet-pilot.yaml`` (a test checks it). Run it again with
``python examples/make_hr_exports.py`` after changing the pilot's people.
"""

import csv
import io
from pathlib import Path

import yaml
from openpyxl import Workbook

HERE = Path(__file__).parent
ROLE = {
    "fi": {"mentor": "Mentori", "mentee": "Aktori"},
    "sv": {"mentor": "Mentor", "mentee": "Adept"},
}
LANGUAGE = {
    "fi": {"fi": "suomi", "sv": "ruotsi", "en": "englanti"},
    "sv": {"fi": "finska", "sv": "svenska", "en": "engelska"},
}
FINNISH = ["Henkilönumero", "Nimi", "Sähköposti", "Rooli", "Kieli", "Yksikkö", "Esihenkilö",
           "Osaaminen", "Tavoitteet", "Kapasiteetti", "Mentorikoulutus", "Työsuhde"]  # fmt: skip
SWEDISH = ["Anställningsnummer", "Förnamn", "Efternamn", "Arbetsmejl", "Roll", "Språk",
           "Avdelning", "Chef", "Kompetens", "Mål", "Kapacitet", "Utbildad"]  # fmt: skip


def people() -> list[dict[str, object]]:
    data = yaml.safe_load((HERE / "palkeet-pilot.yaml").read_text(encoding="utf-8"))
    return list(data["participants"])


def finnish_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(FINNISH)
    for p in people():
        writer.writerow(
            [
                p["id"], p["name"], p["email"], ROLE["fi"][p["role"]], LANGUAGE["fi"][p["locale"]],
                p["unit"], p["manager"], ", ".join(p.get("expertise", [])),
                ", ".join(p.get("goals", [])), p.get("capacity", ""), p.get("trained_on", ""),
                "vakituinen",
            ]
        )  # fmt: skip
    return out.getvalue().encode("cp1252")


def swedish_workbook(path: Path) -> None:
    book = Workbook()
    info = book.active
    assert info is not None
    info.title = "Info"
    info["A1"] = "Export från personalsystemet. Deltagarna finns på bladet Deltagare."
    sheet = book.create_sheet("Deltagare")
    sheet.append(SWEDISH)
    for p in people():
        first, _, last = str(p["name"]).partition(" ")
        sheet.append(
            [
                p["id"], first, last, p["email"], ROLE["sv"][p["role"]],
                LANGUAGE["sv"][p["locale"]], p["unit"], p["manager"],
                "; ".join(p.get("expertise", [])), "; ".join(p.get("goals", [])),
                p.get("capacity"), p.get("trained_on"),
            ]
        )  # fmt: skip
    book.save(path)


if __name__ == "__main__":
    (HERE / "henkilosto.csv").write_bytes(finnish_csv())
    swedish_workbook(HERE / "deltagare.xlsx")
