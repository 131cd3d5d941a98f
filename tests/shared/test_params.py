"""List parameters as people type them with papermill: one parser for every notebook."""
import pytest

from slt_nb.errors import ParameterError
from slt_nb.params import load_params, parse_list


@pytest.mark.parametrize("typed, expected", [
    ("val", ["val"]),                        # -p splits val
    ("val,test", ["val", "test"]),           # -p splits val,test
    (" val , test ", ["val", "test"]),
    ('["val","test"]', ["val", "test"]),     # -p splits '["val","test"]' (the README's form)
    ("[val, test]", ["val", "test"]),        # YAML flow list typed as a string
    (["val"], ["val"]),                      # -y 'splits: [val]'
    (("train",), ["train"]),
    (None, None),                            # not given: the params file decides
])
def test_every_typed_form_of_a_list_reads_the_same(typed, expected):
    assert parse_list("splits", typed) == expected


def test_frame_numbers_are_converted_to_ints():
    assert parse_list("frames", "0,10,20", int) == [0, 10, 20]
    assert parse_list("frames", "[3, 4]", int) == [3, 4]
    assert parse_list("frames", 7, int) == [7]


@pytest.mark.parametrize("bad", ['["val"', "val,,test", "{val: 1}", '[["val"]]', "x,y"])
def test_a_value_that_is_no_list_names_the_parameter_and_the_accepted_forms(bad):
    item = int if bad == "x,y" else str
    with pytest.raises(ParameterError) as err:
        parse_list("frames" if item is int else "splits", bad, item)
    msg = str(err.value)
    name = "frames" if item is int else "splits"
    assert f"parameter {name!r}" in msg and f"-p {name} val,test" in msg and f"-y '{name}: [val, test]'" in msg


def test_load_params_reads_splits_given_as_a_string():
    assert load_params("How2Sign", {"splits": '["train"]'})["splits"] == ["train"]
    assert load_params("How2Sign", {"splits": "val,test"})["splits"] == ["val", "test"]
    assert load_params("How2Sign")["splits"] == ["train", "val", "test"]
