"""Reading a report's data sets: Parquet, CSV or Arrow (IPC file or stream, Feather)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from modelmon.exceptions import ValidationError

__all__ = ["FORMATS", "read_table"]

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".txt": "csv",
           ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".arrows": "arrow"}


def read_table(path: str | Path, *, what: str = "data set") -> pa.Table:
    """The file as an Arrow table, its format from its suffix (errors name the file only)."""
    p = Path(path)
    kind = FORMATS.get(p.suffix.lower())
    if kind is None:
        raise ValidationError(f"{what} {p.name!r}: expected a .parquet, .csv or .arrow "
                              f"(.feather, .ipc) file", code="unsupported_media_type",
                              loc=(what,))
    if not p.is_file():
        raise ValidationError(f"{what} {p.name!r} does not exist", code="invalid_value",
                              loc=(what,))
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            # text columns as dictionaries: decoded once per distinct value, and the drift
            # tests count categories from the codes (a third of the time of plain strings)
            schema = pq.read_schema(p)
            text = [f.name for f in schema
                    if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
            return pq.read_table(p, read_dictionary=text or None)
        if kind == "csv":
            import pyarrow.csv as pcsv

            return pcsv.read_csv(p)
        import pyarrow.ipc as ipc

        with p.open("rb") as handle:
            head = handle.read(6)
        if head == b"ARROW1":
            return ipc.open_file(p).read_all()
        return ipc.open_stream(p).read_all()
    except (pa.ArrowException, OSError) as exc:
        raise ValidationError(f"{what} {p.name!r} cannot be read as {kind}: {exc}",
                              code="malformed_body", loc=(what,)) from None
