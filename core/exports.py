"""Tables as files: streaming CSV and constant-memory XLSX writers.

Both writers take a list of column labels and rows of cells and write row by row as the rows come from the
database, so a file of thousands of rows costs the server a bounded amount of memory: the CSV is streamed,
the workbook is built in xlsxwriter's constant-memory mode into a temporary file. Cells may be text, whole
or decimal numbers, dates, or None for an empty cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import FileResponse, StreamingHttpResponse
from django.utils import translation
from django.utils.http import content_disposition_header

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel reads a CSV as the machine's legacy code page unless it starts with a byte order mark; with it,
# Vietnamese names open correctly.
BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet; titles and names come from the public.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    """What a file holds: its column labels (lazy translations are fine), its rows of cells, the worksheet's
    name and, optionally, each column's width in characters in the workbook."""

    columns: Sequence[StrOrPromise]
    rows: Iterable[Sequence]
    sheet: StrOrPromise
    widths: Sequence[int] = ()


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int | float):
        return str(value)  # a number, even a negative one, is not a formula
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """csv.writer writes to this and gets the line back, so each line can be yielded as it is made."""

    def write(self, value: str) -> str:
        return value


def csv_response(table: Table, filename: str) -> StreamingHttpResponse:
    language = translation.get_language()

    def lines() -> Iterator[str]:
        # Streaming runs after the view has returned: keep the reader's language for labels made on the way.
        with translation.override(language):
            writer = csv.writer(_Echo())
            yield BOM + writer.writerow([str(column) for column in table.columns])
            for row in table.rows:
                yield writer.writerow([_csv_text(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _write_workbook(output, table: Table) -> None:
    import xlsxwriter

    # constant_memory flushes each row to disk as soon as the next one starts; strings are written as text,
    # never as formulas.
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet(re.sub(r"[\[\]:*?/\\]", " ", str(table.sheet))[:31])
    header = workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1})
    date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for column, width in enumerate(table.widths):
        sheet.set_column(column, column, width)
    sheet.write_row(0, 0, [str(column) for column in table.columns], header)
    sheet.freeze_panes(1, 0)
    last = 0
    for last, row in enumerate(table.rows, start=1):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(last, column, dt.datetime.combine(value, dt.time()), date)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(last, column, value)
            else:
                sheet.write_string(last, column, str(value))
    sheet.autofilter(0, 0, last, len(table.columns) - 1)
    workbook.close()


def xlsx_response(table: Table, filename: str) -> FileResponse:
    # Not a `with` block: the response closes the file, and with it deletes it, once it has been sent.
    output = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        _write_workbook(output, table)
    except BaseException:
        output.close()
        raise
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


TABLE_WRITERS: dict[str, Callable[[Table, str], StreamingHttpResponse | FileResponse]] = {
    "csv": csv_response,
    "xlsx": xlsx_response,
}
