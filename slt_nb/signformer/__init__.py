"""Training Signformer on slt-nb exports: config resolver, lean loader, RAM projection.

`config` turns export stems into part lists Signformer accepts (`slt-nb signformer-config`),
reading the YAML through `safe_yaml` and each manifest's split entry through `split_parts`;
`loader` is a drop-in for Signformer's `load_data` that keeps samples at their real width
(`frames` holds the samples and the narrowing unpickler, `fields` Signformer's torchtext
fields, `iterators` its batch iterators); `memory` projects the RAM either loader needs from a
manifest. Import the submodule you need: `loader`, `fields` and `iterators` need torchtext 0.5
(the `signformer` extra), the others do not.
"""
