"""Annotation files as users really have them: BOMs, other encodings, compressed files, and
sentences whose quotes would make a csv reader swallow the following lines."""
import gzip
import shutil

import pytest

from conftest import DEMO, REAL
from slt_nb.datasets.how2sign import How2SignReader, read_annotations
from slt_nb.datasets.lsfb import read_lsfb_annotations
from slt_nb.errors import AnnotationError
from slt_nb.export.pipeline import ExportOptions, export_split
from slt_nb.formats.annotations import read_augmented
from slt_nb.formats.pami import iter_samples

REALIGNED = REAL / "how2sign_metadata" / "how2sign_realigned_test_first40rows.csv"


def _real_lines():
    return REALIGNED.read_text(encoding="utf-8").splitlines()


def test_a_utf8_bom_is_accepted_by_every_annotation_reader(tmp_path):
    simple = tmp_path / "annotations.csv"
    simple.write_bytes(b"\xef\xbb\xbfid,text,split\na,Hello,train\n")
    rows, skipped = read_annotations(simple, "train")
    assert [(r.id, r.text) for r in rows] == [("a", "Hello")] and not skipped
    realigned = tmp_path / "how2sign_realigned_test.csv"
    realigned.write_bytes(b"\xef\xbb\xbf" + REALIGNED.read_bytes())
    rows, skipped = read_annotations(realigned, "test")
    assert len(rows) == 40 and not skipped
    lsfb = tmp_path / "lsfb.csv"
    lsfb.write_bytes(b"\xef\xbb\xbf" + (DEMO / "LSFB-CONT" / "annotations.csv").read_bytes())
    rows, skipped = read_lsfb_annotations(str(lsfb))
    assert len(rows) == 12 and rows[0]["id"] == "CLSFBI0103A_S001_B_0" and not skipped
    aug = tmp_path / "train_aug.tsv"
    aug.write_bytes(b"\xef\xbb\xbfid\ttext\nclip\tHello\n")
    assert [(r.id, r.text) for r in read_augmented(aug)[0]] == [("clip", "Hello")]


@pytest.mark.parametrize("encode, hint", [
    (lambda t: t.encode("latin-1"), "latin-1"),
    (lambda t: t.encode("utf-16"), "UTF-16 byte-order mark"),
    (lambda t: gzip.compress(t.encode("utf-8")), "gzip-compressed"),
    (lambda t: t.encode("utf-16-le"), "NUL bytes"),
])
def test_a_file_that_is_not_utf8_names_the_file_the_encoding_and_what_it_looks_like(tmp_path, encode, hint):
    f = tmp_path / "annotations.csv"
    f.write_bytes(encode("id,text,split\na,Ça va très bien,train\n"))
    with pytest.raises(AnnotationError) as err:
        read_annotations(f, "train")
    msg = str(err.value)
    assert msg.startswith(f"{f}: ") and "utf-8" in msg and hint in msg


def test_latin1_error_says_which_line(tmp_path):
    f = tmp_path / "annotations.csv"
    f.write_bytes("id,text,split\na,Hello,train\nb,Ça va,train\n".encode("latin-1"))
    with pytest.raises(AnnotationError, match=r"byte 0xc7 at line 3"):
        read_annotations(f, "train")


def test_an_unclosed_quote_skips_its_line_only_and_the_following_clips_are_read(tmp_path):
    lines = _real_lines()
    fields = lines[4].split("\t")
    fields[-1] = '"Hi there, he said'
    lines[4] = "\t".join(fields)
    f = tmp_path / "how2sign_realigned_test.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, skipped = read_annotations(f, "test")
    assert len(rows) == 39 and len(rows) + len(skipped) == len(lines) - 1
    (bad,) = skipped
    assert bad.row == 5 and bad.clip == fields[3]
    assert "line 5: a quote opened in field 7 is not closed on this line" in bad.reason
    assert [r.line for r in rows][2:4] == [4, 6]  # the next line is its own row, with its own text
    assert rows[3].id == lines[5].split("\t")[3]


def test_an_unclosed_quote_in_the_simple_csv_is_a_skipped_line(tmp_path):
    f = tmp_path / "annotations.csv"
    f.write_text('id,text,split\na,"Hi there, he said,val\nb,Second,val\nc,Third,val\n')
    rows, skipped = read_annotations(f, "val")
    assert [r.id for r in rows] == ["b", "c"]
    assert [(s.row, s.clip) for s in skipped] == [(2, "a")] and "not closed on this line" in skipped[0].reason


def test_a_quoted_field_holding_a_tab_in_a_tab_separated_file_is_skipped(tmp_path):
    lines = _real_lines()
    fields = lines[2].split("\t")
    lines[2] = "\t".join(fields[:5] + [f'"{fields[5]}\t{fields[6]}"'])
    f = tmp_path / "how2sign_realigned_test.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, skipped = read_annotations(f, "test")
    assert len(rows) == 39 and [(s.row, s.clip) for s in skipped] == [(3, fields[3])]
    assert "holds a tab" in skipped[0].reason


def test_unusual_line_separators_inside_a_sentence_do_not_split_the_row(tmp_path):
    f = tmp_path / "annotations.csv"
    f.write_text("id,text,split\na,one\u2028two\x0cthree\x85four,train\nb,Next,train\n", encoding="utf-8")
    rows, skipped = read_annotations(f, "train")
    assert [(r.id, r.line) for r in rows] == [("a", 2), ("b", 3)] and not skipped
    assert rows[0].text == "one\u2028two\x0cthree\x85four"


def test_a_stray_nul_skips_its_line_only(tmp_path):
    f = tmp_path / "annotations.csv"
    f.write_text("id,text,split\na\x00b,Hello,train\nc,Bye,train\n" + "d,More text to read,train\n" * 5)
    rows, skipped = read_annotations(f, "train")
    assert [r.id for r in rows][:2] == ["c", "d"] and [(s.row, s.reason.endswith("holds a NUL character"))
                                                     for s in skipped] == [(2, True)]


def test_crlf_files_keep_their_line_numbers(tmp_path):
    f = tmp_path / "annotations.csv"
    f.write_bytes(b'id,text,split\r\na,"Hello, you",train\r\nb,"Open,train\r\nc,Bye,train\r\n')
    rows, skipped = read_annotations(f, "train")
    assert [(r.id, r.text, r.line) for r in rows] == [("a", "Hello, you", 2), ("c", "Bye", 4)]
    assert [s.row for s in skipped] == [3]


def test_exported_plus_skipped_equals_the_files_real_rows_with_an_unbalanced_quote(tmp_path):
    root = tmp_path / "How2Sign"
    shutil.copytree(DEMO / "How2Sign", root)
    csv_path = root / "how2sign_realigned_val.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split("\t")
    fields[-1] = '"Hi there, he said'
    lines[1] = "\t".join(fields)
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    entry = export_split(How2SignReader(str(root)), "val", ExportOptions(str(out)))
    assert entry["annotation_rows"] == len(lines) - 1 == 3
    assert entry["rows_exported"] + entry["rows_skipped"] == 3
    reasons = {s["row"]: s["reason"] for s in entry["skipped"]}
    assert "not closed on this line" in reasons[2]
    names = [s["name"] for s in iter_samples(out / p["file"] for p in entry["parts"])]
    assert "val/_2FBDaOPYig_1-5-rgb_front" in names  # the real clip on the next line was not swallowed


def test_an_annotation_path_that_is_a_folder_is_named(tmp_path):
    (tmp_path / "annotations.csv").mkdir()
    with pytest.raises(AnnotationError, match="is a folder; expected a file"):
        read_annotations(tmp_path / "annotations.csv", "train")
