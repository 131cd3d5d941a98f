"""Training Signformer on slt-nb exports: config resolver, lean loader, RAM projection.

`config` turns export stems into part lists Signformer accepts (`slt-nb signformer-config`);
`loader` is a drop-in for Signformer's `load_data` that keeps samples at their real width;
`memory` projects the RAM either loader needs from a manifest. Import the submodule you need:
`loader` needs torchtext 0.5 (the `signformer` extra), the others do not.
"""
