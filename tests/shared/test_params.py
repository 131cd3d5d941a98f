"""List parameters as people type them with papermill: one parser for every notebook."""
import re

import pytest

from slt_nb.errors import ParameterError
from slt_nb.params import load_params, parse_flag, parse_list, parse_mapping


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


@pytest.mark.parametrize("typed, expected", [("no", False), ("No", False), ("false", False), ("off", False), ("0", False),
                                             (0, False), (False, False), ("yes", True), ("TRUE", True), ("on", True),
                                             (1, True), (True, True), (None, True)])
def test_yes_no_parameters_read_the_words_papermill_passes_as_strings(typed, expected):
    assert parse_flag("resume", typed, default=True) is expected


@pytest.mark.parametrize("bad", ["nope", "2", 2, [True], "maybe"])
def test_a_yes_no_value_that_is_no_flag_names_the_parameter(bad):
    with pytest.raises(ParameterError, match=r"parameter 'resume': .* is not a yes/no value; accepted: true/false"):
        parse_flag("resume", bad, default=True)


@pytest.mark.parametrize("typed, expected", [('{"model.embed_dim": 64, "augment": true}', {"model.embed_dim": 64, "augment": True}),
                                             ({"seed": 3}, {"seed": 3}), (None, {}), ("", {})])
def test_mapping_parameters_read_the_json_string_papermill_passes(typed, expected):
    assert parse_mapping("overrides", typed) == expected


@pytest.mark.parametrize("bad", ['{"model.embed_dim": 64', "[1, 2]", "42", 7])
def test_a_mapping_value_that_is_no_mapping_names_the_parameter(bad):
    with pytest.raises(ParameterError, match="parameter 'overrides'"):
        parse_mapping("overrides", bad)


@pytest.mark.parametrize("name, value, message", [
    ("chunk_size", "abc", "parameter 'chunk_size': 'abc' is not a whole number"),
    ("chunk_size", 0, "parameter 'chunk_size': 0 is below 1"),
    ("feature_size", "1024.5", "parameter 'feature_size': '1024.5' is not a whole number"),
    ("retries", "many", "parameter 'retries': 'many' is not a whole number"),
    ("memory_limit_gb", "lots", "parameter 'memory_limit_gb': 'lots' is not a number"),
])
def test_a_non_numeric_parameter_is_named(name, value, message):
    from slt_nb.engine import EngineSettings
    from slt_nb.export.run import export_options

    params = load_params("How2Sign", {name: value})
    with pytest.raises(ParameterError, match=re.escape(message)):
        export_options(params)
        EngineSettings.from_params(params)
